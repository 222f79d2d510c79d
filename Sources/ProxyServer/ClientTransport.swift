/// How the client reached the proxy. The unix socket counts as a secure transport for
/// `require_secure_transport` (as in MariaDB), but not as TLS.
public enum ClientTransport: Sendable, Equatable {
    case tcp
    case unixSocket

    var logName: String { self == .tcp ? "tcp" : "socket" }
}
