import FoundationEssentials
import Metrics
import ProxyServer
import Synchronization

/// Counts of successful and failed reloads: swift-metrics counters (exported by the metrics
/// backend) plus plain totals for the systemd STATUS line; and when the configuration was last
/// loaded (startup or reload) and whether that worked.
enum ReloadCounters {
    final class Counted: Sendable {
        let counter: Counter
        let total = Atomic<Int>(0)

        init(counter: Counter) {
            self.counter = counter
        }

        func increment() {
            counter.increment()
            total.wrappingAdd(1, ordering: .relaxed)
        }

        var value: Int { total.load(ordering: .relaxed) }
    }

    static let succeeded = Counted(counter: Counter(label: MetricName.reloads, dimensions: [("result", "success")]))
    static let failed = Counted(counter: Counter(label: MetricName.reloads, dimensions: [("result", "failure")]))
    static let lastLoadTimestamp = Gauge(label: MetricName.lastReloadTimestamp)
    static let lastLoadSuccess = Gauge(label: MetricName.lastReloadSuccess)

    /// A load of the configuration finished (the startup load counts as a successful one).
    static func recordLoad(succeeded: Bool, at date: Date = Date()) {
        lastLoadTimestamp.record(date.timeIntervalSince1970)
        lastLoadSuccess.record(succeeded ? 1 : 0)
    }
}
