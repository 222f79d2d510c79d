import Foundation
import MetricsTestKit
import ProxyDaemon
import ProxyServer
import Testing

@Suite struct ReloadCountersTests {
    @Test func aSuccessfulReloadCountsAndStampsTheLoad() throws {
        let metrics = TestMetrics()
        let counters = ReloadCounters(factory: metrics)
        counters.recordReload(succeeded: true, at: Date(timeIntervalSince1970: 1_800_000_000))

        #expect(try metrics.expectCounter(MetricName.reloads, [("result", "success")]).totalValue == 1)
        #expect(try metrics.expectCounter(MetricName.reloads, [("result", "failure")]).totalValue == 0)
        #expect(try metrics.expectGauge(MetricName.lastReloadTimestamp).lastValue == 1_800_000_000)
        #expect(try metrics.expectGauge(MetricName.lastReloadSuccess).lastValue == 1)
        #expect(counters.summary == "1 ok, 0 failed")
    }

    @Test func aFailedReloadCountsAndMarksTheLastLoadFailed() throws {
        let metrics = TestMetrics()
        let counters = ReloadCounters(factory: metrics)
        counters.recordReload(succeeded: true)
        counters.recordReload(succeeded: false)
        counters.recordReload(succeeded: false)

        #expect(try metrics.expectCounter(MetricName.reloads, [("result", "failure")]).totalValue == 2)
        #expect(try metrics.expectGauge(MetricName.lastReloadSuccess).lastValue == 0)
        #expect(counters.succeeded.value == 1)
        #expect(counters.failed.value == 2)
        #expect(counters.summary == "1 ok, 2 failed")
    }

    @Test func theStartupLoadIsASuccessfulLoadButNoReload() throws {
        let metrics = TestMetrics()
        let counters = ReloadCounters(factory: metrics)
        counters.recordLoad(succeeded: true, at: Date(timeIntervalSince1970: 42))

        #expect(try metrics.expectGauge(MetricName.lastReloadTimestamp).lastValue == 42)
        #expect(try metrics.expectGauge(MetricName.lastReloadSuccess).lastValue == 1)
        #expect(counters.summary == "0 ok, 0 failed")
    }

    @Test func statusLineWithoutTLS() {
        let counters = ReloadCounters(factory: TestMetrics())
        counters.recordReload(succeeded: true)
        counters.recordReload(succeeded: false)
        #expect(
            ServiceStatus.line(openConnections: 12, counters: counters, tlsContext: nil)
                == "12 connections; reloads: 1 ok, 1 failed"
        )
        #expect(ServiceStatus.certificateSummary(nil) == "")
    }

    @Test func statusLineNamesTheCertificateAndItsExpiry() throws {
        let snapshot = try DaemonFixtures.snapshot(["--ssl"])
        let tls = try #require(snapshot.tlsContext)
        let certificate = try #require(tls.certificate)
        let notAfter = try #require(certificate.notAfter)
        let line = ServiceStatus.line(
            openConnections: 0,
            counters: ReloadCounters(factory: TestMetrics()),
            tlsContext: tls
        )
        #expect(
            line
                == "0 connections; reloads: 0 ok, 0 failed; certificate \(certificate.subject) (serial \(certificate.serial)) expires "
                + notAfter.formatted(Date.ISO8601FormatStyle())
        )
        #expect(line.hasSuffix("Z"))
    }
}
