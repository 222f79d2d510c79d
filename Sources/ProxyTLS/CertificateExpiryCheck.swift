import FoundationEssentials

/// Decides which loaded certificates deserve a log line: expired or not yet valid (an error), or
/// inside the warning window (a warning). Pure, so the daily re-check and its tests share it.
///
/// The window is `ssl_cert_expiry_warning` days, but never more than a quarter of the
/// certificate's lifetime: ACME clients renew when about a third of the lifetime is left (certbot
/// at 30 days of 90), so a short-lived certificate is reported only once its renewal is overdue,
/// not every day while it is on schedule.
public enum CertificateExpiryCheck {
    public enum Finding: Sendable, Equatable {
        case expired(CertificateValidity)
        case notYetValid(CertificateValidity)
        case expiresSoon(CertificateValidity, remaining: TimeInterval)

        /// The proxy's own certificate out of its validity period is an error (clients that verify
        /// refuse it); a CA certificate is a warning: bundles such as the system's carry expired
        /// roots that harm nothing, and `journalctl -p err` should not fill with them.
        public var isError: Bool {
            if case .expiresSoon = self { return false }
            return certificate.role == .server
        }

        public var certificate: CertificateValidity {
            switch self {
            case .expired(let certificate), .notYetValid(let certificate), .expiresSoon(let certificate, _):
                return certificate
            }
        }

        /// The log message; the certificate's subject and dates go in the metadata.
        public var message: String {
            let what = certificate.role == .server ? "the TLS certificate" : "a CA certificate in ssl_ca"
            switch self {
            case .expired: return "\(what) has expired"
            case .notYetValid: return "\(what) is not valid yet"
            case .expiresSoon(_, let remaining):
                let days = Int(remaining / 86_400)
                if days >= 1 { return "\(what) expires in \(days) day\(days == 1 ? "" : "s")" }
                let hours = Int(remaining / 3_600)
                return "\(what) expires in \(hours) hour\(hours == 1 ? "" : "s")"
            }
        }
    }

    /// The warning window for a certificate with this lifetime.
    public static func window(lifetime: TimeInterval?, warningDays: Int) -> TimeInterval {
        let configured = TimeInterval(warningDays) * 86_400
        guard let lifetime, lifetime > 0 else { return configured }
        return min(configured, lifetime / 4)
    }

    public static func findings(_ certificates: [CertificateValidity], now: Date, warningDays: Int) -> [Finding] {
        certificates.compactMap { certificate in
            guard let notAfter = certificate.notAfter else { return nil }
            if notAfter <= now { return .expired(certificate) }
            if let notBefore = certificate.notBefore, notBefore > now { return .notYetValid(certificate) }
            let lifetime = certificate.notBefore.map { notAfter.timeIntervalSince($0) }
            let remaining = notAfter.timeIntervalSince(now)
            return remaining < window(lifetime: lifetime, warningDays: warningDays)
                ? .expiresSoon(certificate, remaining: remaining) : nil
        }
    }
}
