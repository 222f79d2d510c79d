import ProxyTLS

/// Where the proxy relays sessions to: the legacy, plaintext MariaDB server.
public enum BackendEndpoint: Sendable, Equatable, CustomStringConvertible {
    case tcp(host: String, port: Int)
    case unixSocket(path: String)

    public var description: String {
        switch self {
        case .tcp(let host, let port):
            return host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        case .unixSocket(let path):
            return path
        }
    }
}

/// `backend_proxy_protocol`: whether, and in which version, the proxy tells the backend the real
/// client address with a PROXY protocol header (MariaDB's `proxy_protocol_networks`).
public enum BackendProxyProtocol: String, Sendable, CaseIterable {
    /// No header: the backend sees the proxy's own address.
    case off
    /// The text header (`PROXY TCP4 …`); clients on the proxy's unix socket are sent as `UNKNOWN`.
    case v1
    /// The binary header without TLVs; clients on the proxy's unix socket are sent as AF_UNIX.
    case v2
}

/// `log_connections`: which connections get their per-connection log lines.
public enum ConnectionLogging: String, Sendable, CaseIterable {
    /// Every connection: `session established` and `connection closed`, allowed changes of user.
    case all = "ALL"
    /// Only connections refused (by the proxy or the backend) or failed (TLS, backend, timeout).
    case refused = "REFUSED"
    /// No per-connection lines (the metrics still count every connection).
    case off = "OFF"
}

/// `policy_mode`: whether the accounts file's verdicts refuse logins or are only reported.
public enum PolicyMode: String, Sendable, CaseIterable {
    /// Refuse what MariaDB would refuse (the default).
    case enforce = "ENFORCE"
    /// Log and count every login or change of user the accounts file would refuse, and let it
    /// through; `require_secure_transport` is still enforced.
    case audit = "AUDIT"
}

/// Log verbosity (`log_level`), the levels of swift-log.
public enum LogLevelSetting: String, Sendable, CaseIterable {
    case trace, debug, info, notice, warning, error, critical
}

/// Every setting of the daemon after the option files and the command line were applied and validated.
///
/// Produced by ``ProxyCommandLine/parse(_:readFile:listDirectory:)``. The initial values here are the
/// documented defaults; the option table (`OptionCatalog`) is authoritative and a test keeps both in step.
public struct ProxySettings: Sendable, Equatable {
    public var bindAddresses: [String] = ["0.0.0.0"]  // bind_address (comma-separated list)
    public var port: Int = 3306  // port (0 = ephemeral port)
    public var socketPath: String? = nil  // socket (empty = none)
    /// backend_host + backend_port, or backend_socket. The parser always sets it explicitly
    /// (one of the two is required); this initial value only serves code that builds settings by hand.
    public var backend: BackendEndpoint = .tcp(host: "127.0.0.1", port: 3306)
    public var backendProxyProtocol: BackendProxyProtocol = .off  // backend_proxy_protocol
    public var backendConnectAttributes = false  // backend_connect_attributes
    public var backendTLS = BackendTLSSettings()  // backend_ssl*
    public var tls = TLSSettings()
    public var certificateExpiryWarningDays = 30  // ssl_cert_expiry_warning
    public var requireSecureTransport = false  // require_secure_transport
    public var accountsPath: String? = nil  // accounts (policy file in MariaDB's SQL)
    public var strictAccounts = false  // strict_accounts
    public var policyMode: PolicyMode = .enforce  // policy_mode
    public var skipNameResolve = true  // skip_name_resolve
    public var maxConnections = 151  // max_connections
    public var maxHandshakes = 64  // max_handshakes (TLS handshakes in flight)
    public var kernelTLS = true  // kernel_tls (read at startup)
    public var connectTimeoutSeconds = 10  // connect_timeout
    public var shutdownTimeoutSeconds = 30  // shutdown_timeout
    public var logLevel: LogLevelSetting = .info  // log_level
    public var logConnections: ConnectionLogging = .all  // log_connections
    public var metricsAddress: String? = nil  // metrics_address (host:port of /metrics)
    public var user: String? = nil  // user (drop root privileges after binding)

    public init() {}
}
