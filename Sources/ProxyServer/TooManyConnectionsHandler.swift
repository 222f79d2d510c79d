import Logging
import MariaDBWire
import NIOCore

/// Answers a connection over `max_connections` as MariaDB does: ERR 1040 "Too many connections"
/// at seq 0 in place of the greeting, without a SQLSTATE marker, then closes.
final class TooManyConnectionsHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let logger: Logger
    private let transport: ClientTransport

    init(logger: Logger, transport: ClientTransport) {
        self.logger = logger
        self.transport = transport
    }

    func channelActive(context: ChannelHandlerContext) {
        let payload = MariaDBError.tooManyConnections().encode(includeSQLState: false)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(encodePacket(sequenceID: 0, payload: payload))).whenComplete { _ in
            channel.close(promise: nil)
        }
        ProxyMetrics.connectionEnded(outcome: "refused: 1040 too many connections")
        logger.warning("connection closed", metadata: [
            "client": "\(ConnectionLogLine.describe(context.remoteAddress, transport: transport))",
            "transport": "\(transport.logName)",
            "outcome": "refused: 1040 too many connections",
        ])
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // Ignored: the connection is being refused.
    }
}

@available(*, unavailable)
extension TooManyConnectionsHandler: Sendable {}
