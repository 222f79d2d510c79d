import COpenSSL
import Glibc
import Metrics
import Synchronization

/// Kernel TLS, process-wide: whether finished TLS 1.3 sessions are handed to the Linux kernel's
/// `tls` ULP (`kernel_tls`, docs/operations.md "Kernel TLS"), and how many were.
///
/// The kernel is asked once at startup (``configure(enabled:)``); a kernel without the ULP (no
/// `tls` module) keeps every connection in user space without a per-connection attempt, and a
/// connection that finds the ULP gone (ENOENT) turns the attempts off for the process.
public enum KernelTLS {
    /// What ``configure(enabled:)`` found.
    public enum Availability: Equatable, Sendable {
        /// The kernel offers the `tls` ULP: sessions that qualify are handed to it.
        case offered
        /// The kernel does not offer it (the reason: the errno of the probe).
        case notOffered(String)
        /// `kernel_tls = OFF`.
        case disabled

        /// One line for the startup log.
        public var logText: String {
            switch self {
            case .offered:
                "kernel TLS: the kernel offers the tls ULP; TLS 1.3 sessions (AES-GCM, ChaCha20-Poly1305) are handed to it after the handshake"
            case .notOffered(let reason):
                "kernel TLS: not offered by this kernel (\(reason)); TLS records stay in user space"
            case .disabled:
                "kernel TLS is OFF (kernel_tls): TLS records stay in user space"
            }
        }
    }

    /// `mariadb_tls_proxy_kernel_tls_connections_total`.
    public static let metricName = "mariadb_tls_proxy_kernel_tls_connections_total"
    /// `mariadb_tls_proxy_kernel_tls_fallbacks_total{reason}`: sessions kept in user space although
    /// the kernel offers kernel TLS, by reason (a short fixed text of ``KernelTLSHandover`` or an errno).
    public static let fallbackMetricName = "mariadb_tls_proxy_kernel_tls_fallbacks_total"

    private static let active = Atomic<Bool>(false)
    private static let handedOver = Atomic<Int>(0)

    /// Probes the kernel and sets whether connections try the handover; creates the metric (at 0).
    @discardableResult
    public static func configure(enabled: Bool) -> Availability {
        _ = Counter(label: metricName)
        guard enabled else {
            active.store(false, ordering: .relaxed)
            return .disabled
        }
        let result = copenssl_ktls_probe()
        active.store(result == 0, ordering: .relaxed)
        if result == 0 { return .offered }
        return .notOffered("setsockopt TCP_ULP tls: \(String(cString: strerror(result)))")
    }

    /// Whether a new connection prepares for a handover.
    static var isActive: Bool { active.load(ordering: .relaxed) }

    /// A connection found no `tls` ULP after all: no further attempts in this process.
    static func kernelLacksULP() {
        active.store(false, ordering: .relaxed)
    }

    /// Connections handed to the kernel since startup.
    public static var handedOverConnections: Int { handedOver.load(ordering: .relaxed) }

    static func recordFallback(_ reason: String) {
        Counter(label: fallbackMetricName, dimensions: [("reason", reason)]).increment()
    }

    static func recordHandover() {
        handedOver.add(1, ordering: .relaxed)
        Counter(label: metricName).increment()
    }
}
