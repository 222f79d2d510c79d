import Foundation
import Logging
import ProxyTLS
import Synchronization
import Testing

@testable import ProxyServer

/// The periodic re-check: a certificate that enters its window while the proxy runs is reported
/// without a restart or a reload.
@Suite struct CertificateExpiryWatchTests {
    final class Recorder: Sendable {
        let lines = Mutex<[(Logger.Level, String)]>([])
        var logger: Logger {
            Logger(label: "test") { _ in RecordingHandler(recorder: self) }
        }
    }

    struct RecordingHandler: LogHandler {
        let recorder: Recorder
        var logLevel: Logger.Level = .trace
        var metadata: Logger.Metadata = [:]
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(
            level: Logger.Level,
            message: Logger.Message,
            metadata: Logger.Metadata?,
            source: String,
            file: String,
            function: String,
            line: UInt
        ) {
            let subject = metadata?["certificate"].map { " \($0)" } ?? ""
            recorder.lines.withLock { $0.append((level, "\(message)\(subject)")) }
        }
    }

    @Test func eachTickChecksTheCurrentCertificates() async throws {
        let recorder = Recorder()
        let now = Date()
        let expiring = CertificateValidity(
            role: .server,
            subject: "/CN=soon",
            serial: "0A",
            notBefore: now.addingTimeInterval(-300 * 86_400),
            notAfter: now.addingTimeInterval(3 * 86_400 + 600)
        )
        let expired = CertificateValidity(
            role: .ca,
            subject: "/CN=old-ca",
            serial: "0B",
            notBefore: now.addingTimeInterval(-900 * 86_400),
            notAfter: now.addingTimeInterval(-60)
        )
        let calls = Atomic<Int>(0)
        let watch = CertificateExpiryWatch(
            current: {
                // The first tick sees a healthy set; later ones what a failed renewal leaves.
                calls.add(1, ordering: .relaxed).newValue == 1 ? ([], 30) : ([expiring, expired], 30)
            },
            logger: recorder.logger,
            interval: .milliseconds(20)
        )
        let task = Task { try await watch.run() }
        while recorder.lines.withLock({ $0.count }) < 2 {
            try await Task.sleep(for: .milliseconds(5))
        }
        task.cancel()
        try await task.value
        let lines = recorder.lines.withLock { Array($0.prefix(2)) }
        #expect(lines.map { $0.0 } == [.warning, .warning], "an expired CA certificate is a warning")
        #expect(
            lines.map(\.1) == [
                "the TLS certificate expires in 3 days /CN=soon", "a CA certificate in ssl_ca has expired /CN=old-ca",
            ]
        )
        #expect(calls.load(ordering: .relaxed) >= 2)
    }

    @Test func cancellationEndsTheWatchWithoutAReport() async throws {
        let recorder = Recorder()
        let watch = CertificateExpiryWatch(current: { ([], 30) }, logger: recorder.logger)
        let task = Task { try await watch.run() }
        task.cancel()
        try await task.value
        #expect(recorder.lines.withLock { $0.isEmpty })
    }
}
