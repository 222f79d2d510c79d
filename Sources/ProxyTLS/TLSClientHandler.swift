import NIOCore

/// A NIO channel handler that speaks TLS with OpenSSL, client side: the proxy's connection to a
/// backend with `backend_ssl`. The record I/O is ``TLSRecordStream``'s, shared with
/// ``TLSServerHandler``.
///
/// It is inserted at the front of the backend's pipeline right after the proxy's SSLRequest was
/// written, and sends the ClientHello at once. Writes made during the handshake (the login
/// response) are held and encrypted once it completes; all writes of one flush go out in one
/// channel write. A close_notify from the backend becomes `ChannelEvent.inputClosed`.
public final class TLSClientHandler: ChannelDuplexHandler, RemovableChannelHandler {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = ByteBuffer
    public typealias OutboundIn = ByteBuffer
    public typealias OutboundOut = ByteBuffer

    private enum State {
        case handshaking
        case active
        case closing
        case closed
    }

    private let clientContext: TLSClientContext
    private let host: String?
    private var records: TLSRecordStream?
    private var state = State.handshaking
    /// close_notify sent by a half-close (`close(mode: .output)`): nothing more is written, but
    /// the backend's answers are still read and decrypted.
    private var outputClosed = false

    /// - Parameters:
    ///   - context: the client context of the snapshot the connection was accepted with.
    ///   - host: the backend's host name or IP address (SNI, and the name checked in its
    ///     certificate when verifying); nil for a unix socket.
    public init(context: TLSClientContext, host: String?) {
        self.clientContext = context
        self.host = host
    }

    public func handlerAdded(context: ChannelHandlerContext) {
        guard
            let connection = TLSConnection(
                clientContext: clientContext,
                host: host,
                allocator: context.channel.allocator
            )
        else {
            state = .closing
            context.fireErrorCaught(TLSError.handshakeFailed("SSL_new failed (host name '\(host ?? "")' not usable)"))
            context.close(promise: nil)
            return
        }
        records = TLSRecordStream(connection: connection)
        advance(context: context)
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        records?.failHeldWrites(ChannelError.ioOnClosedChannel)
        records = nil
    }

    // MARK: - Inbound

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard state == .handshaking || state == .active, let records else { return }
        records.connection.bio.receiveFromNetwork(unwrapInboundIn(data))
        advance(context: context)
    }

    public func channelReadComplete(context: ChannelHandlerContext) {
        records?.sendCiphertext(context: context, promise: nil)
        context.fireChannelReadComplete()
    }

    public func channelInactive(context: ChannelHandlerContext) {
        let wasHandshaking = state == .handshaking
        state = .closed
        records?.failHeldWrites(ChannelError.ioOnClosedChannel)
        if wasHandshaking {
            context.fireErrorCaught(TLSError.handshakeFailed("the backend closed the connection during the handshake"))
        }
        context.fireChannelInactive()
    }

    private func advance(context: ChannelHandlerContext) {
        guard let records else { return }
        let connection = records.connection
        if state == .handshaking {
            switch connection.doHandshake() {
            case .wantRead:
                records.sendCiphertext(context: context, promise: nil)
            case .complete:
                state = .active
                records.sendCiphertext(context: context, promise: nil)
                context.fireUserInboundEventTriggered(TLSEvent.handshakeCompleted(connection.facts()))
                // Post-handshake messages (TLS 1.3 session tickets) and data that came with the Finished.
                decrypt(context: context)
                if state == .active, records.flushDeferred {
                    records.flushDeferred = false
                    encryptHeldWrites(context: context)
                }
            case .closed:
                failHandshake(context: context, reason: "the backend closed the connection during the handshake")
            case .failed(let reason):
                if let verifyFailure = connection.verifyFailure {
                    failHandshake(context: context, reason: "\(reason): \(verifyFailure)")
                } else {
                    failHandshake(context: context, reason: reason)
                }
            }
        } else if state == .active {
            decrypt(context: context)
        }
    }

    private func decrypt(context: ChannelHandlerContext) {
        guard let records else { return }
        switch records.decrypt(context: context) {
        case .complete, .wantRead:
            break
        case .closed:
            // The backend's close_notify: report the EOF; ours goes out when the output is closed.
            if !outputClosed { records.sendCiphertext(context: context, promise: nil) }
            context.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        case .failed(let reason):
            fail(context: context, error: .protocolError(reason))
        }
    }

    /// A TLS error after the handshake: the alert OpenSSL wrote goes out, then the channel closes.
    private func fail(context: ChannelHandlerContext, error: TLSError) {
        state = .closing
        records?.failHeldWrites(error)
        records?.sendCiphertext(context: context, promise: nil)
        context.fireErrorCaught(error)
        context.close(promise: nil)
    }

    private func failHandshake(context: ChannelHandlerContext, reason: String) {
        state = .closing
        records?.sendCiphertext(context: context, promise: nil)
        records?.failHeldWrites(TLSError.handshakeFailed(reason))
        context.fireErrorCaught(TLSError.handshakeFailed(reason))
        context.close(promise: nil)
    }

    // MARK: - Outbound

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard state == .handshaking || state == .active, !outputClosed else {
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        records?.hold(unwrapOutboundIn(data), promise: promise)
    }

    public func flush(context: ChannelHandlerContext) {
        switch state {
        case .handshaking:
            records?.flushDeferred = true
        case .active:
            encryptHeldWrites(context: context)
        case .closing, .closed:
            break
        }
    }

    public func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        if state == .active && mode == .output {
            // A half-close: the client sent everything; the backend's answers keep coming.
            if !outputClosed {
                encryptHeldWrites(context: context)
                records?.connection.shutdown()
                outputClosed = true
                records?.sendCiphertext(context: context, promise: nil)
            }
        } else if state == .active {
            encryptHeldWrites(context: context)
            records?.connection.shutdown()
            state = .closing
            records?.sendCiphertext(context: context, promise: nil)
        } else if state == .handshaking {
            state = .closing
        }
        if mode == .all { records?.failHeldWrites(ChannelError.ioOnClosedChannel) }
        context.close(mode: mode, promise: promise)
    }

    /// Encrypts every held write and sends the ciphertext in one channel write.
    private func encryptHeldWrites(context: ChannelHandlerContext) {
        if let reason = records?.encryptHeldWrites(context: context) {
            fail(context: context, error: .protocolError(reason))
        }
    }
}

@available(*, unavailable)
extension TLSClientHandler: Sendable {}
