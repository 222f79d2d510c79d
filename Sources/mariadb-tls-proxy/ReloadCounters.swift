import Metrics
import Synchronization

/// Counts of successful and failed reloads: swift-metrics counters (exported by the metrics
/// backend) plus plain totals for the systemd STATUS line.
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

    static let succeeded = Counted(counter: Counter(label: "mariadb_tls_proxy_reloads_total", dimensions: [("result", "success")]))
    static let failed = Counted(counter: Counter(label: "mariadb_tls_proxy_reloads_total", dimensions: [("result", "failure")]))
}
