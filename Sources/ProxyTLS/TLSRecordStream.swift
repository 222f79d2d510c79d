import NIOCore

/// The record I/O both TLS handlers share, over one ``TLSConnection``.
///
/// Writes are held until a flush; then all of them are encrypted into the BIO's one outbound
/// buffer and sent with one channel write (one `write` system call per flush, however many
/// records). Received ciphertext is read by OpenSSL straight out of the channel's buffers
/// (``ByteBufferBIO``) and decrypted into ``PlaintextScratch``'s buffer, which is reused whenever
/// the previous plaintext has been written on and released. Confined to the channel's event loop.
/// A class, so a write made re-entrantly while a flush is being sent (a promise callback writing
/// again) simply joins the held writes.
final class TLSRecordStream {
    let connection: TLSConnection
    private var heldWrites = CircularBuffer<(ByteBuffer, EventLoopPromise<Void>?)>(initialCapacity: 4)
    /// A flush arrived before the handshake completed: the held writes go out once it has.
    var flushDeferred = false
    /// Whether writes wait for the handshake or a deferred flush (a kernel TLS handover must not skip them).
    var hasHeldWrites: Bool { !heldWrites.isEmpty }

    init(connection: TLSConnection) {
        self.connection = connection
    }

    func hold(_ buffer: ByteBuffer, promise: EventLoopPromise<Void>?) {
        heldWrites.append((buffer, promise))
    }

    /// Encrypts every held write, then sends the ciphertext in one channel write whose promise
    /// completes those of the held writes. Returns OpenSSL's reason if it refused a write; every
    /// held promise has then failed.
    func encryptHeldWrites(context: ChannelHandlerContext) -> String? {
        guard !heldWrites.isEmpty else { return nil }
        // The first promise stands for all: the others follow it (no array per flush).
        var combined: EventLoopPromise<Void>?
        while let (buffer, promise) = heldWrites.popFirst() {
            if case .failed(let reason) = connection.write(buffer) {
                let error = TLSError.protocolError(reason)
                promise?.fail(error)
                combined?.fail(error)
                failHeldWrites(error)
                return reason
            }
            guard let promise else { continue }
            if let combined {
                combined.futureResult.cascade(to: promise)
            } else {
                combined = promise
            }
        }
        sendCiphertext(context: context, promise: combined)
        return nil
    }

    /// Sends what OpenSSL has written (records, alerts, handshake messages) and flushes. With
    /// nothing to send, a promise still completes after the writes before it.
    func sendCiphertext(context: ChannelHandlerContext, promise: EventLoopPromise<Void>?) {
        if let ciphertext = connection.bio.takeOutbound() {
            context.writeAndFlush(NIOAny(ciphertext), promise: promise)
        } else if let promise {
            context.writeAndFlush(NIOAny(context.channel.allocator.buffer(capacity: 0)), promise: promise)
        }
    }

    /// Writes OpenSSL's pending output (a handshake alert, say) without waiting for a flush.
    func writeCiphertext(context: ChannelHandlerContext) {
        if let ciphertext = connection.bio.takeOutbound() {
            context.write(NIOAny(ciphertext), promise: nil)
        }
    }

    /// Decrypts everything received so far and passes the plaintext up the pipeline in one read.
    /// `.closed` is the peer's close_notify; `.failed` a broken record stream.
    func decrypt(context: ChannelHandlerContext) -> TLSConnection.Result {
        var buffer = PlaintextScratch.take(
            minimumCapacity: connection.plaintextRoom,
            allocator: context.channel.allocator
        )
        let result = connection.read(into: &buffer)
        if buffer.readableBytes > 0 {
            context.fireChannelRead(NIOAny(buffer))
        }
        PlaintextScratch.giveBack(buffer)
        return result
    }

    func failHeldWrites(_ error: Error) {
        while let (_, promise) = heldWrites.popFirst() {
            promise?.fail(error)
        }
    }
}
