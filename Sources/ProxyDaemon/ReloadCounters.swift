import FoundationEssentials
import Metrics
import ProxyServer
import Synchronization

/// Counts of successful and failed reloads: swift-metrics counters (exported by the metrics
/// backend) plus plain totals for the systemd STATUS line; and when the configuration was last
/// loaded (startup or reload) and whether that worked.
package final class ReloadCounters: Sendable {
    /// A swift-metrics counter with its running total kept here too, for the STATUS line.
    package final class Counted: Sendable {
        let counter: Counter
        let total = Atomic<Int>(0)

        init(counter: Counter) {
            self.counter = counter
        }

        func increment() {
            counter.increment()
            total.wrappingAdd(1, ordering: .relaxed)
        }

        package var value: Int { total.load(ordering: .relaxed) }
    }

    package let succeeded: Counted
    package let failed: Counted
    let lastLoadTimestamp: Gauge
    let lastLoadSuccess: Gauge

    /// - Parameter factory: the metrics backend; the bootstrapped one (Prometheus) in the daemon.
    package init(factory: MetricsFactory = MetricsSystem.factory) {
        succeeded = Counted(
            counter: Counter(label: MetricName.reloads, dimensions: [("result", "success")], factory: factory)
        )
        failed = Counted(
            counter: Counter(label: MetricName.reloads, dimensions: [("result", "failure")], factory: factory)
        )
        lastLoadTimestamp = Gauge(label: MetricName.lastReloadTimestamp, factory: factory)
        lastLoadSuccess = Gauge(label: MetricName.lastReloadSuccess, factory: factory)
    }

    /// A load of the configuration finished (the startup load counts as a successful one).
    package func recordLoad(succeeded: Bool, at date: Date = Date()) {
        lastLoadTimestamp.record(date.timeIntervalSince1970)
        lastLoadSuccess.record(succeeded ? 1 : 0)
    }

    /// A reload (SIGHUP) swapped in a new configuration.
    package func recordReload(succeeded: Bool, at date: Date = Date()) {
        (succeeded ? self.succeeded : failed).increment()
        recordLoad(succeeded: succeeded, at: date)
    }

    /// `3 ok, 1 failed`, as the STATUS line shows it.
    package var summary: String { "\(succeeded.value) ok, \(failed.value) failed" }
}
