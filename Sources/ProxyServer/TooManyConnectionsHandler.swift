import Logging
import MariaDBWire
import NIOCore
import Synchronization

/// Answers a connection over `max_connections` as MariaDB does: ERR 1040 "Too many connections"
/// at seq 0 in place of the greeting, without a SQLSTATE marker, then closes.
final class TooManyConnectionsHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let logger: Logger
    private let transport: ClientTransport
    /// The log gets at most one of these lines a second (a client at the limit may connect as fast
    /// as it likes; MariaDB logs nothing for 1040); the others are counted in the next one.
    private static let lastLoggedSecond = Atomic<Int64>(-1)
    private static let suppressed = Atomic<Int>(0)

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
        let second = Int64(NIODeadline.now().uptimeNanoseconds / 1_000_000_000)
        let last = Self.lastLoggedSecond.load(ordering: .relaxed)
        guard second > last, Self.lastLoggedSecond.compareExchange(expected: last, desired: second, ordering: .relaxed).exchanged else {
            Self.suppressed.wrappingAdd(1, ordering: .relaxed)
            return
        }
        var metadata: Logger.Metadata = [
            "client": "\(ConnectionLogLine.describe(context.remoteAddress, transport: transport))",
            "transport": "\(transport.logName)",
            "outcome": "refused: 1040 too many connections",
        ]
        let skipped = Self.suppressed.exchange(0, ordering: .relaxed)
        if skipped > 0 { metadata["more_refused_since_last_line"] = "\(skipped)" }
        logger.warning("connection closed", metadata: metadata)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // Ignored: the connection is being refused.
    }
}

@available(*, unavailable)
extension TooManyConnectionsHandler: Sendable {}
