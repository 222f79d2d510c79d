/// How one client connection ended: the `outcome` of its `connection closed` line and the
/// `outcome` label of `mariadb_tls_proxy_connections_total`.
///
/// The log texts are stable (operators and tests match on them); ``kind`` is the journal's
/// `OUTCOME_KIND` (the `outcome_kind` field of the line); the metric labels are a small fixed set,
/// so alerts can count refusals without parsing logs.
public enum ConnectionOutcome: Sendable, Equatable, CustomStringConvertible {
    /// Still logging in (never logged in practice: every end sets another outcome).
    case incomplete
    /// The backend accepted the login and the session was relayed.
    case relayed
    /// Over `max_connections`: ERR 1040 instead of the greeting.
    case tooManyConnections
    /// Plaintext TCP with `require_secure_transport=ON`: ERR 3159.
    case insecureTransport
    /// The account check refused the login the backend had accepted: ERR 1045.
    case accessDenied(reason: String)
    /// A malformed or out-of-order login packet: ERR 1043.
    case badHandshake(reason: String)
    /// A login in a character set MariaDB cannot run a session in: ERR 1231.
    case characterSetRefused(String)
    /// An authentication reply with the wrong sequence id: ERR 1156.
    case packetsOutOfOrder
    /// The TLS handshake failed, or TLS broke during the login (the `TLSError` text).
    case tlsFailed(String)
    /// The TLS handler could not be added to the channel.
    case tlsNotStarted(String)
    /// The backend answered the credentials with an ERR (wrong password, unknown user…).
    case refusedByBackend(code: UInt16, message: String)
    /// The backend sent an ERR instead of its greeting (its own 1040, 1129, 1130…); nil when unreadable.
    case backendRefusedConnection(code: UInt16?, message: String)
    /// The backend could not be reached, sent something unreadable, or went away during the login.
    case backendFailed(String)
    /// The client did not finish its login within `connect_timeout`.
    case loginTimedOut(seconds: Int)
    /// The client half-closed (EOF) before the login finished.
    case clientClosedDuringLogin
    /// The client's connection went away before the login finished.
    case clientDisconnectedDuringLogin

    /// The text of the connection line's `outcome` field.
    public var description: String {
        switch self {
        case .incomplete: return "incomplete"
        case .relayed: return "relayed"
        case .tooManyConnections: return "refused: 1040 too many connections"
        case .insecureTransport: return "refused: 3159 insecure transport"
        case .accessDenied(let reason): return "refused: 1045 \(reason)"
        case .badHandshake(let reason): return "refused: 1043 bad handshake: \(reason)"
        case .characterSetRefused(let name): return "refused: 1231 character set \(name)"
        case .packetsOutOfOrder: return "refused: 1156 packets out of order during authentication"
        case .tlsFailed(let error): return "refused: \(error)"
        case .tlsNotStarted(let error): return "cannot start TLS: \(error)"
        case .refusedByBackend(let code, let message): return "refused by backend: \(code) \(message)"
        case .backendRefusedConnection(let code?, let message): return "backend refused: \(code) \(message)"
        case .backendRefusedConnection(nil, _): return "backend refused"
        case .backendFailed(let reason): return "backend failed: \(reason)"
        case .loginTimedOut(let seconds): return "dropped: login not finished within connect_timeout (\(seconds)s)"
        case .clientClosedDuringLogin: return "client closed the connection during login"
        case .clientDisconnectedDuringLogin: return "client disconnected during login"
        }
    }

    /// The outcome's kind without its details: `relayed`, `refused`, `refused by backend`,
    /// `backend refused`, `backend failed`, `dropped`, `cannot start TLS`, or the whole text where it
    /// has no details (the journal's `OUTCOME_KIND`, docs/operations.md).
    public var kind: String {
        switch self {
        case .incomplete: return "incomplete"
        case .relayed: return "relayed"
        case .tooManyConnections, .insecureTransport, .accessDenied, .badHandshake, .characterSetRefused,
            .packetsOutOfOrder, .tlsFailed:
            return "refused"
        case .tlsNotStarted: return "cannot start TLS"
        case .refusedByBackend: return "refused by backend"
        case .backendRefusedConnection: return "backend refused"
        case .backendFailed: return "backend failed"
        case .loginTimedOut: return "dropped"
        case .clientClosedDuringLogin: return "client closed the connection during login"
        case .clientDisconnectedDuringLogin: return "client disconnected during login"
        }
    }

    /// The `outcome` label of `mariadb_tls_proxy_connections_total`.
    public var metricLabel: String {
        switch self {
        case .relayed: return "relayed"
        case .tooManyConnections: return "too_many_connections"
        case .insecureTransport: return "insecure_transport"
        case .accessDenied: return "access_denied"
        case .tlsFailed, .tlsNotStarted: return "tls_failed"
        case .refusedByBackend, .backendRefusedConnection: return "backend_refused"
        case .badHandshake, .characterSetRefused, .packetsOutOfOrder: return "refused"
        case .backendFailed: return "backend_failed"
        case .loginTimedOut: return "timeout"
        case .clientClosedDuringLogin, .clientDisconnectedDuringLogin, .incomplete: return "client_closed"
        }
    }

    /// Every label ``metricLabel`` can take (the series operators may alert on).
    public static let metricLabels = [
        "relayed", "too_many_connections", "insecure_transport", "access_denied", "tls_failed",
        "backend_refused", "refused", "backend_failed", "timeout", "client_closed",
    ]

    /// Logged with `log_connections = REFUSED`: the proxy or the backend refused the login, or it
    /// failed (TLS, backend, timeout). Not: relayed sessions, and clients that went away by
    /// themselves during the login (health checks and port scanners that connect and close).
    public var isRefusalOrFailure: Bool {
        switch self {
        case .relayed, .clientClosedDuringLogin, .clientDisconnectedDuringLogin, .incomplete: return false
        case .tooManyConnections, .insecureTransport, .accessDenied, .badHandshake, .characterSetRefused,
            .packetsOutOfOrder, .tlsFailed, .tlsNotStarted, .refusedByBackend, .backendRefusedConnection,
            .backendFailed,
            .loginTimedOut:
            return true
        }
    }
}
