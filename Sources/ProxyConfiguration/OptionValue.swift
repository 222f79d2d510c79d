import ProxyTLS

/// A checked option value, typed by its ``OptionKind``.
enum OptionValue: Sendable, Equatable {
    case boolean(Bool)
    case integer(Int)
    /// `nil` when the value was empty: MariaDB's way of saying "none" for paths and names.
    case text(String?)
    case addresses([String])
    case tlsVersions(Set<TLSProtocolVersion>)
    case logLevel(LogLevelSetting)
    case proxyProtocol(BackendProxyProtocol)
    case connectionLogging(ConnectionLogging)
    case policyMode(PolicyMode)
}
