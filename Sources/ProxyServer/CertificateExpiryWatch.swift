import FoundationEssentials
import Logging
import Metrics
import ProxyTLS
import ServiceLifecycle
import Synchronization

/// Watches the loaded certificates' expiry: logs ``CertificateExpiryCheck``'s findings at startup,
/// after every reload and once a day while running, so a renewal that keeps failing shows up
/// before clients do; and publishes each certificate's notAfter as a gauge.
public struct CertificateExpiryWatch: Service {
    /// What to check: the certificates of the current snapshot and `ssl_cert_expiry_warning`.
    public typealias Source = @Sendable () -> (certificates: [CertificateValidity], warningDays: Int)

    let current: Source
    let logger: Logger
    let interval: Duration

    public init(current: @escaping Source, logger: Logger, interval: Duration = .seconds(86_400)) {
        self.current = current
        self.logger = logger
        self.interval = interval
    }

    public init(server: ProxyServer, logger: Logger) {
        self.init(current: { Self.certificates(of: server.currentSnapshot) }, logger: logger)
    }

    /// Returns only when the service group shuts down (the sleep is cancelled then).
    public func run() async throws {
        while true {
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            } catch {
                return
            }
            if Task.isCancelled || Task.isShuttingDownGracefully { return }
            let (certificates, warningDays) = current()
            Self.report(certificates, warningDays: warningDays, logger: logger)
        }
    }

    public static func certificates(
        of snapshot: ServerSnapshot
    ) -> (certificates: [CertificateValidity], warningDays: Int) {
        (snapshot.tlsContext?.certificates ?? [], snapshot.settings.certificateExpiryWarningDays)
    }

    /// One check, as at startup and after a reload.
    public static func report(_ snapshot: ServerSnapshot, logger: Logger) {
        let (certificates, warningDays) = certificates(of: snapshot)
        report(certificates, warningDays: warningDays, logger: logger)
    }

    static func report(_ certificates: [CertificateValidity], warningDays: Int, logger: Logger, now: Date = Date()) {
        for finding in CertificateExpiryCheck.findings(certificates, now: now, warningDays: warningDays) {
            let certificate = finding.certificate
            var metadata: Logger.Metadata = [:]
            for (key, value) in certificate.logFields { metadata[key] = "\(value)" }
            if case .notYetValid = finding, let notBefore = certificate.notBefore {
                metadata["valid_from"] = "\(notBefore.formatted(Date.ISO8601FormatStyle()))"
            }
            if finding.isError {
                logger.error("\(finding.message)", metadata: metadata)
            } else {
                logger.warning("\(finding.message)", metadata: metadata)
            }
        }
    }

    /// `mariadb_tls_proxy_certificate_expiry_timestamp_seconds{role, subject, serial}`, one series per
    /// loaded certificate; publishing a reloaded snapshot removes the series of certificates gone.
    public static func publish(_ snapshot: ServerSnapshot) {
        var gauges: [[String]: Gauge] = [:]
        for certificate in certificates(of: snapshot).certificates {
            guard let notAfter = certificate.notAfter else { continue }
            let dimensions = [
                ("role", certificate.role.rawValue), ("subject", certificate.subject), ("serial", certificate.serial),
            ]
            let gauge = Gauge(label: "mariadb_tls_proxy_certificate_expiry_timestamp_seconds", dimensions: dimensions)
            gauge.record(notAfter.timeIntervalSince1970)
            gauges[dimensions.map(\.1)] = gauge
        }
        published.withLock { previous in
            for (key, gauge) in previous where gauges[key] == nil { gauge.destroy() }
            previous = gauges
        }
    }

    private static let published = Mutex<[[String]: Gauge]>([:])
}
