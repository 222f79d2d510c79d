import FoundationEssentials
import Logging
import ProxyTLS

/// Warns when the served certificate has expired or expires within 30 days (at startup and after
/// every reload), so rotation failures show up before clients do.
enum CertificateExpiry {
    static let warningWindow: TimeInterval = 30 * 24 * 3600

    static func warnIfClose(_ context: TLSServerContext?, logger: Logger, now: Date = Date()) {
        guard let context, let notAfter = context.certificateNotAfter else { return }
        let remaining = notAfter.timeIntervalSince(now)
        let metadata: Logger.Metadata = [
            "certificate": "\(context.certificateSubject)",
            "expires": "\(ISO8601DateFormatter().string(from: notAfter))",
        ]
        if remaining <= 0 {
            logger.error("the TLS certificate has expired", metadata: metadata)
        } else if remaining < warningWindow {
            logger.warning("the TLS certificate expires in \(Int(remaining / 86400)) days", metadata: metadata)
        }
    }
}
