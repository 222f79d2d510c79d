import NIOCore

/// A NIO channel handler that terminates TLS with OpenSSL, server side.
///
/// It is inserted at the front of the pipeline when the client's SSLRequest arrives (MariaDB's
/// in-band upgrade), so it starts in the handshake, and it can be handed ciphertext that an earlier
/// handler had already read. Writes are held until the handshake completes; the record I/O (one
/// channel write per flush, decryption into a reused buffer) is ``TLSRecordStream``'s, shared
/// with ``TLSClientHandler``. Half-close maps onto TLS:
/// a received close_notify becomes `ChannelEvent.inputClosed`, and `close(mode: .output)` sends
/// close_notify before shutting the socket's write side.
///
/// With a ``TLSHandshakeAdmission`` (`max_handshakes`), OpenSSL runs during the handshake only
/// while a slot is held, and a slot is held only while OpenSSL has client input to process: it is
/// asked for once the whole ClientHello has arrived, given back as soon as `SSL_do_handshake`
/// has written the server's flight and wants the client's answer, and asked for again (ahead of
/// new handshakes) when the client's next bytes arrive, which stay buffered until then. A client
/// that stalls before, inside or after its ClientHello therefore holds nothing. From its first
/// slot the handshake has ``handshakeDeadline`` to finish, waits for the client included; after
/// that the connection is closed (connect_timeout still bounds the whole login).
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
    private var records: TLSRecordStream?
    private var state = State.handshaking
    /// Follows the records for a handover to the kernel (docs/operations.md "Kernel TLS").
    private var kernelTLS: KernelTLSTracker?

    /// Where this handshake stands with the `max_handshakes` admission.
    private enum Slot {
        /// No admission configured, or the handshake is over: OpenSSL runs freely.
        case notNeeded
        /// Waiting for the whole ClientHello.
        case awaitingClientHello
        case waiting(ticket: UInt64)
        /// OpenSSL is processing client input.
        case holding(ticket: UInt64)
        /// The handshake is under way and OpenSSL waits for the client's next flight: no slot held.
        case awaitingClient
    }

    /// How long a handshake may take from its first slot (its ClientHello has arrived in full):
    /// a client needs one round trip from there, so 5 seconds is generous. Waits for the client
    /// count, although they hold no slot: a stalled handshake keeps its memory only that long.
    public static let handshakeDeadline = TimeAmount.seconds(5)
    /// Bytes a client may have buffered while its handshake waits for a slot: a maximal
    /// ClientHello in maximal records, or a client certificate chain (OpenSSL's default limit is
    /// 100 KiB), with room to spare.
    static let maximumBytesBeforeAdmission = 2 * ClientHelloScanner.maximumMessageLength

    private let admission: TLSHandshakeAdmission?
    private var slot: Slot
    private var helloScanner = ClientHelloScanner()
    private var deadline: Scheduled<Void>?
    /// Set at the first slot: ``handshakeDeadline`` runs from there.
    private var deadlineStarted = false

    /// - Parameters:
    ///   - context: the server context (snapshot) this connection uses for its whole life.
    ///   - initialCiphertext: bytes already read past the SSLRequest (the start of the ClientHello).
    ///   - plaintextAfterHandshakeFailure: written unencrypted after the alert when the handshake
    ///     fails; MariaDB sends `1043 Bad handshake` this way.
    ///   - admission: the `max_handshakes` gate; nil lets every handshake run at once.
    public init(
        context: TLSServerContext,
        initialCiphertext: ByteBuffer?,
        plaintextAfterHandshakeFailure: ByteBuffer?,
        admission: TLSHandshakeAdmission? = nil
    ) {
        self.serverContext = context
        self.initialCiphertext = initialCiphertext
        self.plaintextAfterHandshakeFailure = plaintextAfterHandshakeFailure
        self.admission = admission
        self.slot = admission == nil ? .notNeeded : .awaitingClientHello
    }

    public func handlerAdded(context: ChannelHandlerContext) {
        guard let connection = TLSConnection(context: serverContext, allocator: context.channel.allocator) else {
            context.fireErrorCaught(TLSError.handshakeFailed("SSL_new failed"))
            context.close(promise: nil)
            return
        }
        records = TLSRecordStream(connection: connection)
        kernelTLS = KernelTLSTracker(connection: connection)
        if let bytes = initialCiphertext, bytes.readableBytes > 0 {
            initialCiphertext = nil
            receive(bytes, context: context)
        }
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        releaseSlot()
        records?.failHeldWrites(ChannelError.ioOnClosedChannel)
        records = nil
    }

    // MARK: - Inbound

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard state == .handshaking || state == .active else { return }
        receive(unwrapInboundIn(data), context: context)
    }

    /// Hands ciphertext to OpenSSL; runs the handshake only once it is admitted.
    private func receive(_ bytes: ByteBuffer, context: ChannelHandlerContext) {
        guard let connection = records?.connection else { return }
        connection.bio.receiveFromNetwork(bytes)
        switch slot {
        case .notNeeded, .holding:
            advance(context: context)
        case .awaitingClientHello:
            if helloScanner.feed(bytes) {
                requestSlot(context: context, continuing: false)
            } else if helloScanner.bytesSeen > Self.maximumBytesBeforeAdmission {
                failHandshake(context: context, reason: "no ClientHello in the first \(helloScanner.bytesSeen) bytes")
            }
        case .awaitingClient:
            requestSlot(context: context, continuing: true)
        case .waiting:
            if connection.bio.pendingInboundBytes > Self.maximumBytesBeforeAdmission {
                failHandshake(
                    context: context,
                    reason: "\(connection.bio.pendingInboundBytes) bytes sent while the handshake waited for a slot"
                )
            }
        }
    }

    // MARK: - max_handshakes

    /// Asks for a slot for the input buffered now; `continuing` for a handshake already under way.
    private func requestSlot(context: ChannelHandlerContext, continuing: Bool) {
        guard let admission else { return }
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let request = admission.requestSlot(on: context.eventLoop, continuing: continuing) {
            let (handler, context) = loopBound.value
            handler.slotGranted(context: context)
        }
        slot = .waiting(ticket: request.ticket)
        if request.grantedNow { slotGranted(context: context) }
    }

    private func slotGranted(context: ChannelHandlerContext) {
        guard case .waiting(let ticket) = slot else { return }
        guard state == .handshaking else {
            releaseSlot()
            return
        }
        slot = .holding(ticket: ticket)
        if !deadlineStarted {
            deadlineStarted = true
            deadline = context.eventLoop.assumeIsolated().scheduleTask(in: Self.handshakeDeadline) { [self] in
                handshakeDeadlinePassed(context: context)
            }
        }
        advance(context: context)
    }

    /// OpenSSL has consumed the client's input and waits for more: the slot goes back while the
    /// client answers (the deadline keeps running).
    private func yieldSlotWhileAwaitingClient() {
        guard case .holding(let ticket) = slot else { return }
        admission?.release(ticket)
        slot = .awaitingClient
    }

    private func handshakeDeadlinePassed(context: ChannelHandlerContext) {
        deadline = nil
        guard state == .handshaking else { return }
        switch slot {
        case .waiting, .holding, .awaitingClient:
            break
        case .notNeeded, .awaitingClientHello:
            return
        }
        releaseSlot()
        state = .closing
        records?.failHeldWrites(ChannelError.ioOnClosedChannel)
        let seconds = Self.handshakeDeadline.nanoseconds / 1_000_000_000
        context.fireErrorCaught(TLSError.handshakeFailed("not finished within \(seconds)s of the ClientHello"))
        context.close(promise: nil)
    }

    /// Gives the slot back (or withdraws the request); from here on OpenSSL runs freely.
    private func releaseSlot() {
        deadline?.cancel()
        deadline = nil
        switch slot {
        case .waiting(let ticket), .holding(let ticket):
            admission?.release(ticket)
        case .notNeeded, .awaitingClientHello, .awaitingClient:
            break
        }
        slot = .notNeeded
    }

    public func channelReadComplete(context: ChannelHandlerContext) {
        // Post-handshake messages (TLS 1.3 tickets, alerts) go out promptly.
        records?.sendCiphertext(context: context, promise: nil)
        context.fireChannelReadComplete()
    }

    public func channelInactive(context: ChannelHandlerContext) {
        state = .closed
        releaseSlot()
        records?.failHeldWrites(ChannelError.ioOnClosedChannel)
        context.fireChannelInactive()
    }

    /// Runs the handshake or decrypts, depending on the state, with the ciphertext received so far.
    private func advance(context: ChannelHandlerContext) {
        guard let connection = records?.connection else { return }
        if state == .handshaking {
            switch connection.doHandshake() {
            case .wantRead:
                yieldSlotWhileAwaitingClient()
                records?.sendCiphertext(context: context, promise: nil)
                return
            case .complete:
                state = .active
                releaseSlot()
                records?.sendCiphertext(context: context, promise: nil)
                context.fireUserInboundEventTriggered(TLSEvent.handshakeCompleted(connection.facts()))
                // Application data that arrived with the client's Finished, then any writes made before.
                decrypt(context: context)
                if state == .active, records?.flushDeferred == true {
                    records?.flushDeferred = false
                    encryptHeldWrites(context: context)
                }
                if state == .active, let tracker = kernelTLS {
                    kernelTLS = nil
                    if tracker.handOver(context: context, pendingWrites: records?.hasHeldWrites ?? false) {
                        state = .closed
                    }
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
        guard let records else { return }
        switch records.decrypt(context: context) {
        case .complete, .wantRead:
            break
        case .closed:
            // close_notify: the client will send nothing more; a half-close for the relay. Ours
            // goes out when the output is closed (TLS 1.3 lets this side still send until then).
            records.sendCiphertext(context: context, promise: nil)
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
        releaseSlot()
        // The alert OpenSSL produced, then MariaDB's plaintext ERR.
        records?.writeCiphertext(context: context)
        if let plaintext = plaintextAfterHandshakeFailure {
            context.write(wrapOutboundOut(plaintext), promise: nil)
        }
        context.flush()
        records?.failHeldWrites(TLSError.handshakeFailed(reason))
        context.fireErrorCaught(TLSError.handshakeFailed(reason))
        context.close(promise: nil)
    }

    // MARK: - Outbound

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard state == .handshaking || state == .active else {
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
        if state == .active || state == .handshaking {
            if state == .active {
                encryptHeldWrites(context: context)
                records?.connection.shutdown()
            }
            state = .closing
            releaseSlot()
            records?.sendCiphertext(context: context, promise: nil)
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
extension TLSServerHandler: Sendable {}
