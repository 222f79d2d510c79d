import NIOCore

/// A NIO channel handler that terminates TLS with OpenSSL, server side.
///
/// It is inserted at the front of the pipeline when the client's SSLRequest arrives (MariaDB's
/// in-band upgrade), so it starts in the handshake, and it can be handed ciphertext that an earlier
/// handler had already read. Writes are held until the handshake completes, and all writes of one
/// flush are encrypted into one buffer sent with one channel write. Half-close maps onto TLS:
/// a received close_notify becomes `ChannelEvent.inputClosed`, and `close(mode: .output)` sends
/// close_notify before shutting the socket's write side.
public final class TLSServerHandler: ChannelDuplexHandler, RemovableChannelHandler {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = ByteBuffer
    public typealias OutboundIn = ByteBuffer
    public typealias OutboundOut = ByteBuffer

    private enum State {
        case handshaking
        case active
        /// close_notify sent (or the channel is closing); nothing more is encrypted.
        case closing
        case closed
    }

    private let serverContext: TLSServerContext
    private var initialCiphertext: ByteBuffer?
    private let plaintextAfterHandshakeFailure: ByteBuffer?
    private var connection: TLSConnection?
    private var state = State.handshaking
    private var pendingWrites = CircularBuffer<(ByteBuffer, EventLoopPromise<Void>?)>(initialCapacity: 8)
    private var flushPending = false

    /// - Parameters:
    ///   - context: the server context (snapshot) this connection uses for its whole life.
    ///   - initialCiphertext: bytes already read past the SSLRequest (the start of the ClientHello).
    ///   - plaintextAfterHandshakeFailure: written unencrypted after the alert when the handshake
    ///     fails; MariaDB sends `1043 Bad handshake` this way.
    public init(context: TLSServerContext, initialCiphertext: ByteBuffer?, plaintextAfterHandshakeFailure: ByteBuffer?) {
        self.serverContext = context
        self.initialCiphertext = initialCiphertext
        self.plaintextAfterHandshakeFailure = plaintextAfterHandshakeFailure
    }

    public func handlerAdded(context: ChannelHandlerContext) {
        guard let connection = TLSConnection(context: serverContext, allocator: context.channel.allocator) else {
            context.fireErrorCaught(TLSServerError.handshakeFailed("SSL_new failed"))
            context.close(promise: nil)
            return
        }
        self.connection = connection
        if let bytes = initialCiphertext, bytes.readableBytes > 0 {
            initialCiphertext = nil
            connection.bio.receiveFromNetwork(bytes)
            advance(context: context)
        }
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        failPendingWrites(ChannelError.ioOnClosedChannel)
        connection = nil
    }

    // MARK: - Inbound

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let connection, state == .handshaking || state == .active else { return }
        connection.bio.receiveFromNetwork(unwrapInboundIn(data))
        advance(context: context)
    }

    public func channelReadComplete(context: ChannelHandlerContext) {
        // Post-handshake messages (TLS 1.3 tickets, alerts) go out promptly.
        writeCiphertext(context: context, promise: nil)
        context.fireChannelReadComplete()
    }

    public func channelInactive(context: ChannelHandlerContext) {
        state = .closed
        failPendingWrites(ChannelError.ioOnClosedChannel)
        context.fireChannelInactive()
    }

    /// Runs the handshake or decrypts, depending on the state, with the ciphertext received so far.
    private func advance(context: ChannelHandlerContext) {
        if state == .handshaking {
            guard let connection else { return }
            switch connection.doHandshake() {
            case .wantRead:
                writeCiphertext(context: context, promise: nil)
                return
            case .complete:
                state = .active
                writeCiphertext(context: context, promise: nil)
                context.fireUserInboundEventTriggered(TLSServerEvent.handshakeCompleted(connection.facts()))
                // Application data that arrived with the client's Finished, then any writes made before.
                decrypt(context: context)
                if state == .active, flushPending {
                    flushPending = false
                    encryptPendingWrites(context: context)
                }
            case .closed:
                failHandshake(context: context, reason: "peer closed the connection during the handshake")
            case .failed(let reason):
                failHandshake(context: context, reason: reason)
            }
            return
        }
        if state == .active {
            decrypt(context: context)
        }
    }

    private func decrypt(context: ChannelHandlerContext) {
        guard let connection else { return }
        // A fresh buffer per read, sized to the ciphertext at hand: the relay keeps each one until
        // the backend write completes, so a buffer kept here for reuse would be copied on write
        // anyway and would pin memory on every idle connection.
        var buffer = context.channel.allocator.buffer(capacity: connection.plaintextRoom)
        let result = connection.read(into: &buffer)
        if buffer.readableBytes > 0 {
            context.fireChannelRead(wrapInboundOut(buffer))
        }
        switch result {
        case .complete, .wantRead:
            break
        case .closed:
            // close_notify: the client will send nothing more. Answer with ours and report a half-close.
            writeCiphertext(context: context, promise: nil)
            context.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        case .failed(let reason):
            state = .closing
            writeCiphertext(context: context, promise: nil)
            context.fireErrorCaught(TLSServerError.protocolError(reason))
            context.close(promise: nil)
        }
    }

    private func failHandshake(context: ChannelHandlerContext, reason: String) {
        state = .closing
        // The alert OpenSSL produced, then MariaDB's plaintext ERR.
        if let alert = connection?.bio.takeOutbound() {
            context.write(wrapOutboundOut(alert), promise: nil)
        }
        if let plaintext = plaintextAfterHandshakeFailure {
            context.write(wrapOutboundOut(plaintext), promise: nil)
        }
        context.flush()
        failPendingWrites(TLSServerError.handshakeFailed(reason))
        context.fireErrorCaught(TLSServerError.handshakeFailed(reason))
        context.close(promise: nil)
    }

    // MARK: - Outbound

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard state == .handshaking || state == .active else {
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        pendingWrites.append((unwrapOutboundIn(data), promise))
    }

    public func flush(context: ChannelHandlerContext) {
        switch state {
        case .handshaking:
            flushPending = true
        case .active:
            encryptPendingWrites(context: context)
        case .closing, .closed:
            break
        }
    }

    public func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        if state == .active || state == .handshaking {
            if state == .active {
                encryptPendingWrites(context: context)
                connection?.shutdown()
            }
            state = .closing
            writeCiphertext(context: context, promise: nil)
        }
        if mode == .all { failPendingWrites(ChannelError.ioOnClosedChannel) }
        context.close(mode: mode, promise: promise)
    }

    /// Encrypts every buffered write, then sends all the ciphertext in one channel write.
    private func encryptPendingWrites(context: ChannelHandlerContext) {
        guard let connection, !pendingWrites.isEmpty else { return }
        var promises: [EventLoopPromise<Void>] = []
        while let (buffer, promise) = pendingWrites.popFirst() {
            if case .failed(let reason) = connection.write(buffer) {
                promise?.fail(TLSServerError.protocolError(reason))
                failPendingWrites(TLSServerError.protocolError(reason))
                promises.forEach { $0.fail(TLSServerError.protocolError(reason)) }
                state = .closing
                context.fireErrorCaught(TLSServerError.protocolError(reason))
                context.close(promise: nil)
                return
            }
            if let promise { promises.append(promise) }
        }
        var combined: EventLoopPromise<Void>?
        if promises.count == 1 {
            combined = promises[0]
        } else if !promises.isEmpty {
            let promise = context.eventLoop.makePromise(of: Void.self)
            let collected = promises
            promise.futureResult.whenComplete { result in collected.forEach { $0.completeWith(result) } }
            combined = promise
        }
        writeCiphertext(context: context, promise: combined)
    }

    private func writeCiphertext(context: ChannelHandlerContext, promise: EventLoopPromise<Void>?) {
        guard let ciphertext = connection?.bio.takeOutbound() else {
            // Nothing to send, but the promise must still complete after the writes before it.
            if let promise {
                context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(capacity: 0)), promise: promise)
            }
            return
        }
        context.writeAndFlush(wrapOutboundOut(ciphertext), promise: promise)
    }

    private func failPendingWrites(_ error: Error) {
        while let (_, promise) = pendingWrites.popFirst() {
            promise?.fail(error)
        }
    }
}

@available(*, unavailable)
extension TLSServerHandler: Sendable {}
