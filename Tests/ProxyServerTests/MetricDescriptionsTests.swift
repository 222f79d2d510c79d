import Metrics
import Prometheus
import ProxyTLS
import Testing

@testable import ProxyServer

/// Every metric has a `# HELP` line, from the one table, whichever swift-metrics type made it.
@Suite struct MetricDescriptionsTests {
    static let allNames = [
        MetricName.connections, MetricName.openConnections, MetricName.clientReceivedBytes, MetricName.clientSentBytes,
        MetricName.tlsHandshakeDuration, MetricName.loginDuration, MetricName.sessionDuration, MetricName.tlsSessions,
        MetricName.tlsHandshakesInFlight, MetricName.tlsHandshakesWaiting, MetricName.maxConnections,
        MetricName.maxHandshakes, MetricName.backendUp, MetricName.backendConnectFailures, MetricName.buildInfo,
        MetricName.reloads, MetricName.lastReloadTimestamp, MetricName.lastReloadSuccess, MetricName.certificateExpiry,
        MetricName.auditWouldRefuse, MetricName.kernelTLSConnections, MetricName.kernelTLSFallbacks,
    ]

    @Test func theKernelTLSNamesAreTheOnesProxyTLSCounts() {
        #expect(MetricName.kernelTLSConnections == KernelTLS.metricName)
        #expect(MetricName.kernelTLSFallbacks == KernelTLS.fallbackMetricName)
    }

    @Test func everyNameHasHelpAndTheTableNothingElse() {
        for name in Self.allNames {
            #expect(!MetricDescriptions.help(for: name).isEmpty, "\(name)")
            #expect(name.hasPrefix("mariadb_tls_proxy_"))
        }
        #expect(Set(MetricDescriptions.table.keys) == Set(Self.allNames))
        // Histograms (and only they) have buckets, in increasing order.
        for (name, description) in MetricDescriptions.table {
            #expect((description.buckets != nil) == name.hasSuffix("_duration_seconds"), "\(name)")
            if let buckets = description.buckets { #expect(buckets == buckets.sorted(), "\(name)") }
        }
    }

    @Test func theFactoryGivesEachKindItsHelpAndBuckets() {
        let registry = PrometheusCollectorRegistry()
        let factory = DescribedMetricsFactory(registry: registry)
        factory.makeCounter(label: MetricName.connections, dimensions: [("outcome", "relayed")]).increment(by: 1)
        factory.makeCounter(label: MetricName.connections, dimensions: [("outcome", "timeout")]).increment(by: 2)
        factory.makeRecorder(label: MetricName.openConnections, dimensions: [], aggregate: false).record(Int64(3))
        factory.makeMeter(label: MetricName.maxConnections, dimensions: []).set(Int64(151))
        factory.makeTimer(label: MetricName.tlsHandshakeDuration, dimensions: []).recordNanoseconds(3_000_000)
        factory.makeCounter(label: "not_in_the_table_total", dimensions: []).increment(by: 1)
        let text = String(decoding: registry.emitToBuffer(), as: UTF8.self)

        #expect(text.contains("# HELP \(MetricName.connections) Client connections ended, by outcome"))
        #expect(text.contains(#"\#(MetricName.connections){outcome="timeout"} 2"#))
        #expect(text.contains("# HELP \(MetricName.openConnections) Client connections open now"))
        #expect(text.contains("# HELP \(MetricName.maxConnections) "))
        #expect(text.contains("# HELP \(MetricName.tlsHandshakeDuration) "))
        // The table's buckets (1 ms first, 5 s last), not swift-prometheus's defaults.
        #expect(text.contains(#"\#(MetricName.tlsHandshakeDuration)_bucket{le="0.001"} 0"#))
        #expect(text.contains(#"\#(MetricName.tlsHandshakeDuration)_bucket{le="0.005"} 1"#))
        #expect(text.contains(#"\#(MetricName.tlsHandshakeDuration)_bucket{le="5.0"} 1"#))
        // A name the table lacks has no help line (and the test above keeps the table complete).
        #expect(!text.contains("# HELP not_in_the_table_total"))
        #expect(Self.familiesWithoutHelp(text) == ["not_in_the_table_total"])
    }

    /// `# TYPE` families with no `# HELP` line.
    static func familiesWithoutHelp(_ text: String) -> [String] {
        let lines = text.split(separator: "\n")
        let typed = lines.filter { $0.hasPrefix("# TYPE ") }.map { $0.split(separator: " ")[2] }
        let helped = Set(lines.filter { $0.hasPrefix("# HELP ") }.map { $0.split(separator: " ")[2] })
        return typed.filter { !helped.contains($0) }.map(String.init)
    }
}
