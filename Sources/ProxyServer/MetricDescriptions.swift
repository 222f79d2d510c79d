/// The name of every metric the proxy exports (the executable's included), in one place.
public enum MetricName {
    public static let connections = "mariadb_tls_proxy_connections_total"
    public static let openConnections = "mariadb_tls_proxy_open_connections"
    public static let clientReceivedBytes = "mariadb_tls_proxy_client_received_bytes_total"
    public static let clientSentBytes = "mariadb_tls_proxy_client_sent_bytes_total"
    public static let tlsHandshakeDuration = "mariadb_tls_proxy_tls_handshake_duration_seconds"
    public static let loginDuration = "mariadb_tls_proxy_login_duration_seconds"
    public static let sessionDuration = "mariadb_tls_proxy_session_duration_seconds"
    public static let tlsSessions = "mariadb_tls_proxy_tls_sessions_total"
    public static let tlsHandshakesInFlight = "mariadb_tls_proxy_tls_handshakes_in_flight"
    public static let tlsHandshakesWaiting = "mariadb_tls_proxy_tls_handshakes_waiting"
    public static let maxConnections = "mariadb_tls_proxy_max_connections"
    public static let maxHandshakes = "mariadb_tls_proxy_max_handshakes"
    public static let backendUp = "mariadb_tls_proxy_backend_up"
    public static let backendConnectFailures = "mariadb_tls_proxy_backend_connect_failures_total"
    public static let buildInfo = "mariadb_tls_proxy_build_info"
    public static let reloads = "mariadb_tls_proxy_reloads_total"
    public static let lastReloadTimestamp = "mariadb_tls_proxy_last_reload_timestamp_seconds"
    public static let lastReloadSuccess = "mariadb_tls_proxy_last_reload_success"
    public static let certificateExpiry = "mariadb_tls_proxy_certificate_expiry_timestamp_seconds"
    public static let auditWouldRefuse = "mariadb_tls_proxy_audit_would_refuse_total"
    public static let kernelTLSConnections = "mariadb_tls_proxy_kernel_tls_connections_total"
    public static let kernelTLSFallbacks = "mariadb_tls_proxy_kernel_tls_fallbacks_total"
}

/// The `# HELP` text of every metric, and the buckets of the histograms: one table, looked up
/// by name by ``DescribedMetricsFactory``. A new metric needs a row here (a test checks that every
/// series the proxy exports has a help text). The Prometheus registry requires every series of a
/// name to carry the same help, which a table keyed by name guarantees.
public enum MetricDescriptions {
    public struct Description: Sendable {
        public let help: String
        /// Histogram upper bounds (swift-metrics `Timer`s only).
        public let buckets: [Duration]?

        init(_ help: String, buckets: [Duration]? = nil) {
            self.help = help
            self.buckets = buckets
        }
    }

    public static let table: [String: Description] = [
        MetricName.connections: .init(
            "Client connections ended, by outcome (relayed, too_many_connections, insecure_transport, access_denied, tls_failed, backend_refused, refused, backend_failed, timeout, client_closed)"
        ),
        MetricName.openConnections: .init("Client connections open now"),
        MetricName.kernelTLSConnections: .init(
            "TLS sessions handed to the kernel's TLS after the handshake (kernel_tls)"
        ),
        MetricName.kernelTLSFallbacks: .init(
            "TLS sessions kept in user space although the kernel offers kernel TLS, by reason"
        ),
        MetricName.clientReceivedBytes: .init(
            "MariaDB protocol bytes received from clients (after TLS decryption); added when a connection ends and every 64 KiB during a session"
        ),
        MetricName.clientSentBytes: .init(
            "MariaDB protocol bytes sent to clients (before TLS encryption); added when a connection ends and every 64 KiB during a session"
        ),
        MetricName.tlsHandshakeDuration: .init(
            "Time from the client's SSLRequest to the completed TLS handshake, for handshakes that completed",
            buckets: [
                .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
                .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
                .milliseconds(2500), .seconds(5),
            ]
        ),
        MetricName.loginDuration: .init(
            "Time from accepting a client connection to relaying the backend's login OK",
            buckets: [
                .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
                .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10),
            ]
        ),
        MetricName.sessionDuration: .init(
            "Time from the backend's login OK to the end of the connection, for relayed sessions",
            buckets: [
                .milliseconds(10), .milliseconds(100), .seconds(1), .seconds(10), .seconds(60), .seconds(300),
                .seconds(1800), .seconds(3600), .seconds(4 * 3600), .seconds(24 * 3600),
            ]
        ),
        MetricName.tlsSessions: .init("Sessions established over TLS, by TLS version and cipher"),
        MetricName.tlsHandshakesInFlight: .init("TLS handshakes computing now (they hold a max_handshakes slot)"),
        MetricName.tlsHandshakesWaiting: .init("TLS handshake steps waiting for a max_handshakes slot"),
        MetricName.maxConnections: .init("The max_connections setting in force"),
        MetricName.maxHandshakes: .init("The max_handshakes setting in force"),
        MetricName.backendUp: .init(
            "1 if the last backend connection attempt got an answer (greeting or ERR), 0 if it failed before one"
        ),
        MetricName.backendConnectFailures: .init(
            "Backend connection attempts that failed before the backend answered (refused, timed out, closed)"
        ),
        MetricName.buildInfo: .init(
            "Always 1; the labels name the proxy's version and the OpenSSL library it runs with"
        ),
        MetricName.reloads: .init("Reloads (SIGHUP), by result (success, failure)"),
        MetricName.lastReloadTimestamp: .init(
            "When the configuration was last loaded (startup or SIGHUP), as a Unix timestamp"
        ),
        MetricName.lastReloadSuccess: .init(
            "1 if the last load of the configuration (startup or SIGHUP) succeeded, 0 if it failed"
        ),
        MetricName.certificateExpiry: .init("Expiry (notAfter) of each loaded certificate, as a Unix timestamp"),
        MetricName.auditWouldRefuse: .init(
            "Logins (at=login) and changes of user (at=change_user) the accounts file would have refused, let through by policy_mode = AUDIT"
        ),
    ]

    /// The help text for `name`; empty (no `# HELP` line) for a name the table lacks.
    public static func help(for name: String) -> String {
        table[name]?.help ?? ""
    }
}
