import NIOCore
import ProxyTLS

/// The client channel's last handler: hands bytes and events to the `ProxyConnection` and gates
/// reads on the backend's writability (backpressure client → backend).
final class ClientChannelHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let connection: ProxyConnection
    private var readPending = false

    init(connection: ProxyConnection) {
        self.connection = connection
    }

    func handlerAdded(context: ChannelHandlerContext) {
        connection.clientContext = context
    }

    func channelActive(context: ChannelHandlerContext) {
        connection.clientActive()
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        connection.clientRead(unwrapInboundIn(data))
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        connection.clientReadComplete()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? TLSServerEvent, case .handshakeCompleted(let facts) = event {
            connection.clientTLSEstablished(facts)
        } else if let event = event as? ChannelEvent, event == .inputClosed {
            connection.clientInputClosed()
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        connection.clientError(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        connection.clientInactive()
    }

    func read(context: ChannelHandlerContext) {
        if connection.mayReadFromClient {
            context.read()
        } else {
            readPending = true
        }
    }

    /// Replays a read held back while the backend was not writable.
    func resumeReading(context: ChannelHandlerContext) {
        if readPending {
            readPending = false
            context.read()
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        connection.clientWritabilityChanged(isWritable: context.channel.isWritable)
        context.fireChannelWritabilityChanged()
    }
}

/// The backend channel's only handler: the mirror image of `ClientChannelHandler`.
final class BackendChannelHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let connection: ProxyConnection
    private var readPending = false

    init(connection: ProxyConnection) {
        self.connection = connection
    }

    func handlerAdded(context: ChannelHandlerContext) {
        connection.backendContext = context
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        connection.backendRead(unwrapInboundIn(data))
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        connection.backendReadComplete()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? TLSClientEvent, case .handshakeCompleted(let facts) = event {
            connection.backendTLSEstablished(facts)
        } else if let event = event as? ChannelEvent, event == .inputClosed {
            connection.backendInputClosed()
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        connection.backendError(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        connection.backendInactive()
    }

    func read(context: ChannelHandlerContext) {
        if connection.mayReadFromBackend {
            context.read()
        } else {
            readPending = true
        }
    }

    func resumeReading(context: ChannelHandlerContext) {
        if readPending {
            readPending = false
            context.read()
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        connection.backendWritabilityChanged(isWritable: context.channel.isWritable)
        context.fireChannelWritabilityChanged()
    }
}

@available(*, unavailable)
extension ClientChannelHandler: Sendable {}

@available(*, unavailable)
extension BackendChannelHandler: Sendable {}
