import Logging
import NIOPosix
import ProxyConfiguration
import ProxyTLS

/// What one accepted connection needs from the server, captured at accept time. A reload later
/// replaces the server's snapshot; this connection keeps the settings and TLS context it started
/// with, but reads the accounts afresh for each check (`currentRules`).
struct ConnectionEnvironment: Sendable {
    let id: UInt64
    let transport: ClientTransport
    let settings: ProxySettings
    let tlsContext: TLSServerContext?
    /// backend_ssl: the client context of the snapshot this connection was accepted with.
    let backendTLSContext: TLSClientContext?
    /// The accounts as the server holds them now (not at accept): a login and a COM_CHANGE_USER
    /// are checked against the privileges current when the check runs, as MariaDB does.
    let currentRules: @Sendable () -> ClientLoginStateMachine.AccountRules
    let handshakeGate: HandshakeGate
    let nameResolverPool: NIOThreadPool
    let logger: Logger
}
