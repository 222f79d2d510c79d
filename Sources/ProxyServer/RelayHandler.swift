import NIOCore
import ProxyTLS

/// The last handler of one side of a connection: the client channel's or the backend channel's.
/// The two are made together by ``matchedPair(connection:)`` (as swift-nio-examples' `GlueHandler`)
/// and know each other: each hands its channel's bytes and events to the `ProxyConnection` (which
/// asks the ``ProxyConnectionStateMachine`` what to do, during the login and in the relay), holds
/// reads while the connection says the other side cannot take what they would cause (backpressure),
/// and carries out on its own channel what the connection decides: writes, flushes, replayed reads,
/// the output's shutdown when the partner's input ended (half-close), and the close.
final class RelayHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let side: ConnectionSide
    private let connection: ProxyConnection
    /// The other side's handler (weak: the connection holds both).
    private(set) weak var partner: RelayHandler?
    private var context: ChannelHandlerContext?
    /// A read the connection held back; replayed by ``resumeReading()``.
    private var readPending = false

    private init(side: ConnectionSide, connection: ProxyConnection) {
        self.side = side
        self.connection = connection
    }

    /// The client's and the backend's handler of one connection, each the other's partner.
    static func matchedPair(connection: ProxyConnection) -> (client: RelayHandler, backend: RelayHandler) {
        let client = RelayHandler(side: .client, connection: connection)
        let backend = RelayHandler(side: .backend, connection: connection)
        client.partner = backend
        backend.partner = client
        return (client, backend)
    }

    // MARK: - What the connection does on this side's channel

    /// Whether this side's channel can take more bytes now (true before it exists).
    var isWritable: Bool { context?.channel.isWritable ?? true }

    func write(_ buffer: ByteBuffer) {
        context?.write(wrapOutboundOut(buffer), promise: nil)
    }

    func flush() {
        context?.flush()
    }

    func writeAndFlush(_ buffer: ByteBuffer) {
        context?.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
    }

    /// Replays a read held back while the connection did not allow it.
    func resumeReading() {
        guard readPending, let context else { return }
        readPending = false
        context.read()
    }

    /// The partner's input ended: this channel's output is shut once the bytes before the EOF have gone out.
    func shutdownOutputAfterPendingWrites() {
        guard let context else { return }
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.writeAndFlush(wrapOutboundOut(ByteBuffer())).whenComplete { _ in
            loopBound.value.close(mode: .output, promise: nil)
        }
    }

    // MARK: - ChannelDuplexHandler

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        if side == .client { connection.clientActive() }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        connection.read(unwrapInboundIn(data), from: side)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        connection.readComplete(side)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed {
            connection.inputClosed(side)
        } else if let event = event as? TLSEvent, case .handshakeCompleted(let facts) = event {
            // Each side's pipeline has its own TLS handler: the side says whose handshake completed.
            switch side {
            case .client: connection.clientTLSEstablished(facts)
            case .backend: connection.backendTLSEstablished(facts)
            }
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        connection.channelError(error, on: side)
    }

    func channelInactive(context: ChannelHandlerContext) {
        connection.channelClosed(side)
        context.fireChannelInactive()
    }

    func read(context: ChannelHandlerContext) {
        if connection.mayRead(from: side) {
            context.read()
        } else {
            readPending = true
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        connection.writabilityChanged(side, isWritable: context.channel.isWritable)
        context.fireChannelWritabilityChanged()
    }
}

@available(*, unavailable)
extension RelayHandler: Sendable {}
