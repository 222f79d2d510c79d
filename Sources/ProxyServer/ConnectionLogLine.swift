import Logging
import NIOCore
import ProxyConfiguration
import ProxyTLS

/// The per-connection log lines: `session established` when the backend's login OK has been
/// relayed, and `connection closed` when the connection ends. Both name the client, its
/// transport, TLS, user, accounts-file row and the backend's connection id; `log_connections`
/// (the connection's settings) decides which are written.
struct ConnectionLogLine {
    let environment: ConnectionEnvironment
    let clientAddress: SocketAddress?
    let tls: TLSFacts?
    let user: String?
    /// The accounts-file row that decided, if any.
    let account: String?
    /// The backend's connection id (`CONNECTION_ID()`, `SHOW PROCESSLIST`'s `Id`), once it greeted.
    let backendConnectionID: UInt32?

    /// Who and how: the fields both lines share.
    var sessionMetadata: Logger.Metadata {
        var metadata: Logger.Metadata = [
            "client": "\(ClientAddress.logText(clientAddress, transport: environment.transport))",
            "transport": "\(environment.transport.logName)",
            "tls": "\(tls.map { "\($0.version)/\($0.cipher)" } ?? "none")",
            "user": "\(user ?? "")",
        ]
        if let subject = tls?.peerSubject {
            metadata["client_cert"] = "\(subject)"
        }
        if let account {
            metadata["account"] = "\(account)"
        }
        if let backendConnectionID {
            metadata["backend_connection_id"] = "\(backendConnectionID)"
        }
        return metadata
    }

    func closedMetadata(
        outcome: ConnectionOutcome,
        bytesFromClient: Int,
        bytesToClient: Int,
        duration: TimeAmount
    ) -> Logger.Metadata {
        var metadata = sessionMetadata
        metadata["outcome"] = "\(outcome)"
        metadata["outcome_kind"] = "\(outcome.kind)"
        metadata["bytes_in"] = "\(bytesFromClient)"
        metadata["bytes_out"] = "\(bytesToClient)"
        metadata["duration_ms"] = "\(duration.nanoseconds / 1_000_000)"
        return metadata
    }

    /// After the backend's login OK was relayed (`log_connections = ALL` only).
    func emitEstablished(to logger: Logger) {
        guard environment.settings.logConnections == .all else { return }
        logger.info("session established", metadata: sessionMetadata)
    }

    func emitClosed(
        outcome: ConnectionOutcome,
        bytesFromClient: Int,
        bytesToClient: Int,
        duration: TimeAmount,
        to logger: Logger
    ) {
        guard Self.logs(outcome, under: environment.settings.logConnections) else { return }
        logger.info(
            "connection closed",
            metadata: closedMetadata(
                outcome: outcome,
                bytesFromClient: bytesFromClient,
                bytesToClient: bytesToClient,
                duration: duration
            )
        )
    }

    /// Whether a connection that ended with `outcome` gets its `connection closed` line.
    static func logs(_ outcome: ConnectionOutcome, under mode: ConnectionLogging) -> Bool {
        switch mode {
        case .all: return true
        case .refused: return outcome.isRefusalOrFailure
        case .off: return false
        }
    }
}
