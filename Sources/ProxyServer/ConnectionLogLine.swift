import Logging
import NIOCore
import ProxyTLS

/// The one log line written when a connection ends: who, over what, as whom, what happened, how much.
struct ConnectionLogLine {
    let environment: ConnectionEnvironment
    let clientAddress: SocketAddress?
    let tls: TLSFacts?
    let user: String?
    /// The accounts-file row that decided, if any.
    let account: String?
    let outcome: String
    let bytesFromClient: Int
    let bytesToClient: Int
    let duration: TimeAmount

    var metadata: Logger.Metadata {
        var metadata: Logger.Metadata = [
            "client": "\(Self.describe(clientAddress, transport: environment.transport))",
            "transport": "\(environment.transport.logName)",
            "tls": "\(tls.map { "\($0.version)/\($0.cipher)" } ?? "none")",
            "user": "\(user ?? "")",
            "outcome": "\(outcome)",
            "bytes_in": "\(bytesFromClient)",
            "bytes_out": "\(bytesToClient)",
            "duration_ms": "\(duration.nanoseconds / 1_000_000)",
        ]
        if let subject = tls?.peerSubject {
            metadata["client_cert"] = "\(subject)"
        }
        if let account {
            metadata["account"] = "\(account)"
        }
        return metadata
    }

    func emit(to logger: Logger) {
        ProxyMetrics.connectionEnded(outcome: outcome)
        logger.info("connection closed", metadata: metadata)
    }

    /// `1.2.3.4:5678` for TCP, `localhost` for the unix socket (as MariaDB names socket clients).
    static func describe(_ address: SocketAddress?, transport: ClientTransport) -> String {
        if transport == .unixSocket { return "localhost" }
        guard let address, let ip = address.ipAddress else { return "unknown" }
        let port = address.port ?? 0
        return address.protocol == .inet6 ? "[\(ip)]:\(port)" : "\(ip):\(port)"
    }
}
