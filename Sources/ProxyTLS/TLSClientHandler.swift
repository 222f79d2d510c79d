import NIOCore

/// Events the client-side TLS handler sends up the backend's pipeline.
public enum TLSClientEvent: Sendable {
    /// The handshake with the backend finished (verified, when verification is on).
    case handshakeCompleted(TLSFacts)
}

/// Errors the client-side TLS handler reports through `errorCaught` before it closes the channel.
public enum TLSClientError: Error, Sendable, CustomStringConvertible {
    /// The handshake failed; OpenSSL's reason, with the verification error when that was the cause
    /// (e.g. "certificate verify failed: hostname mismatch").
    case handshakeFailed(String)
    /// A TLS error after the handshake.
    case protocolError(String)

    public var description: String {
        switch self {
        case .handshakeFailed(let reason): return "TLS handshake failed: \(reason)"
        case .protocolError(let reason): return "TLS error: \(reason)"
        }
    }
}

/// A NIO channel handler that speaks TLS with OpenSSL, client side: the proxy's connection to a
/// backend with `backend_ssl`. It shares the record plumbing (``TLSConnection``, ``ByteBufferBIO``)
/// with ``TLSServerHandler``.
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
    private var connection: TLSConnection?
    private var state = State.handshaking
    private var pendingWrites = CircularBuffer<(ByteBuffer, EventLoopPromise<Void>?)>(initialCapacity: 4)
    private var flushPending = false
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
        guard let connection = TLSConnection(clientContext: clientContext, host: host, allocator: context.channel.allocator) else {
            state = .closing
            context.fireErrorCaught(TLSClientError.handshakeFailed("SSL_new failed (host name '\(host ?? "")' not usable)"))
            context.close(promise: nil)
            return
        }
        self.connection = connection
        advance(context: context)
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        failPendingWrites(ChannelError.ioOnClosedChannel)
        connection = nil
    }

    // MARK: - Inbound

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard state == .handshaking || state == .active, let connection else { return }
        connection.bio.receiveFromNetwork(unwrapInboundIn(data))
        advance(context: context)
    }

    public func channelReadComplete(context: ChannelHandlerContext) {
        writeCiphertext(context: context, promise: nil)
        context.fireChannelReadComplete()
    }

    public func channelInactive(context: ChannelHandlerContext) {
        let wasHandshaking = state == .handshaking
        state = .closed
        failPendingWrites(ChannelError.ioOnClosedChannel)
        if wasHandshaking {
            context.fireErrorCaught(TLSClientError.handshakeFailed("the backend closed the connection during the handshake"))
        }
        context.fireChannelInactive()
    }

    private func advance(context: ChannelHandlerContext) {
        guard let connection else { return }
        if state == .handshaking {
            switch connection.doHandshake() {
            case .wantRead:
                writeCiphertext(context: context, promise: nil)
            case .complete:
                state = .active
                writeCiphertext(context: context, promise: nil)
                context.fireUserInboundEventTriggered(TLSClientEvent.handshakeCompleted(connection.facts()))
                // Post-handshake messages (TLS 1.3 session tickets) and data that came with the Finished.
                decrypt(context: context)
                if state == .active, flushPending {
                    flushPending = false
                    encryptPendingWrites(context: context)
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
        guard let connection else { return }
        var buffer = context.channel.allocator.buffer(capacity: connection.plaintextRoom)
        let result = connection.read(into: &buffer)
        if buffer.readableBytes > 0 {
            context.fireChannelRead(wrapInboundOut(buffer))
        }
        switch result {
        case .complete, .wantRead:
            break
        case .closed:
            // The backend's close_notify: answer it (unless ours went out already), report the EOF.
            if !outputClosed { writeCiphertext(context: context, promise: nil) }
            context.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        case .failed(let reason):
            state = .closing
            writeCiphertext(context: context, promise: nil)
            context.fireErrorCaught(TLSClientError.protocolError(reason))
            context.close(promise: nil)
        }
    }

    private func failHandshake(context: ChannelHandlerContext, reason: String) {
        state = .closing
        if let alert = connection?.bio.takeOutbound() {
            context.writeAndFlush(wrapOutboundOut(alert), promise: nil)
        }
        failPendingWrites(TLSClientError.handshakeFailed(reason))
        context.fireErrorCaught(TLSClientError.handshakeFailed(reason))
        context.close(promise: nil)
    }

    // MARK: - Outbound

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard state == .handshaking || state == .active, !outputClosed else {
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
        if state == .active && mode == .output {
            // A half-close: the client sent everything; the backend's answers keep coming.
            if !outputClosed {
                encryptPendingWrites(context: context)
                connection?.shutdown()
                outputClosed = true
                writeCiphertext(context: context, promise: nil)
            }
        } else if state == .active {
            encryptPendingWrites(context: context)
            connection?.shutdown()
            state = .closing
            writeCiphertext(context: context, promise: nil)
        } else if state == .handshaking {
            state = .closing
        }
        if mode == .all { failPendingWrites(ChannelError.ioOnClosedChannel) }
        context.close(mode: mode, promise: promise)
    }

    private func encryptPendingWrites(context: ChannelHandlerContext) {
        guard let connection, !pendingWrites.isEmpty else { return }
        var promises: [EventLoopPromise<Void>] = []
        while let (buffer, promise) = pendingWrites.popFirst() {
            if case .failed(let reason) = connection.write(buffer) {
                let error = TLSClientError.protocolError(reason)
                promise?.fail(error)
                failPendingWrites(error)
                promises.forEach { $0.fail(error) }
                state = .closing
                context.fireErrorCaught(error)
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
extension TLSClientHandler: Sendable {}
