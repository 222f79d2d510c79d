import Logging
import MariaDBWire
import NIOCore
import ProxyConfiguration

/// Answers a connection over `max_connections` as MariaDB does: ERR 1040 "Too many connections"
/// at seq 0 in place of the greeting, without a SQLSTATE marker, then closes. Each refusal is
/// counted, and logged (one line, as every connection) unless `log_connections = OFF`.
final class TooManyConnectionsHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let logger: Logger
    private let transport: ClientTransport
    private let logConnections: ConnectionLogging

    init(logger: Logger, transport: ClientTransport, logConnections: ConnectionLogging) {
        self.logger = logger
        self.transport = transport
        self.logConnections = logConnections
    }

    func channelActive(context: ChannelHandlerContext) {
        let payload = MariaDBError.tooManyConnections().encode(includeSQLState: false)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(encodePacket(sequenceID: 0, payload: payload))).whenComplete { _ in
            channel.close(promise: nil)
        }
        let outcome = ConnectionOutcome.tooManyConnections
        ProxyMetrics.connectionEnded(outcome: outcome)
        guard ConnectionLogLine.logs(outcome, under: logConnections) else { return }
        logger.warning(
            "connection closed",
            metadata: [
                "client": "\(ClientAddress.logText(context.remoteAddress, transport: transport))",
                "transport": "\(transport.logName)",
                "outcome": "\(outcome)",
            ]
        )
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // Ignored: the connection is being refused.
    }
}

@available(*, unavailable)
extension TooManyConnectionsHandler: Sendable {}
