/// The outcome of checking a connection against a requirement.
public enum PolicyDecision: Sendable, Equatable {
    case allow
    /// Refused; `reason` is for the proxy's log (the client only sees MariaDB's 1045).
    case deny(reason: String)
}
