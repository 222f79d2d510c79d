import NIOCore

/// The relay's client → backend filter: forwards bytes as they come, but holds back each
/// `COM_CHANGE_USER` packet until it is complete and hands it over for the policy check, and
/// each `COM_MULTI` packet, which the connection refuses (its packed commands are never checked).
///
/// Pure and allocation-free in the common case: a buffer with no change-user in it is passed on
/// unchanged. Only a header split across reads (≤ 4 bytes) or a change-user packet being
/// collected is copied.
public struct ChangeUserInterceptor: Sendable {
    /// How a ``feed(_:forward:held:)`` ended.
    public enum Result: Equatable, Sendable {
        /// Everything was forwarded, handed over or kept for the next read.
        case ok
        /// A held command announced more than `limit` bytes: close the session.
        case oversized(Int)
        /// `held` asked to stop after a packet: the bytes behind it are kept, unread, and go
        /// first on the next `feed` (an empty buffer resumes).
        case paused
    }

    private var tracker = CommandBoundaryTracker()
    /// Up to 4 bytes of a packet header split across reads.
    private var carry: ByteBuffer?
    /// A held packet (COM_CHANGE_USER or COM_MULTI) being collected.
    private var collecting: ByteBuffer?
    /// The largest held packet (header included) collected; a bigger one ends the session.
    public let limit: Int

    /// - Parameter limit: the size cap of a held packet (the daemon uses the default, 1 MiB).
    public init(limit: Int = 1 << 20) {
        self.limit = limit
    }

    /// Feeds client bytes. `forward` receives what may go to the backend now, in order;
    /// `held` receives each complete COM_CHANGE_USER or COM_MULTI packet (header included, with
    /// its command byte) instead, and returns false to pause the stream behind it until the next
    /// `feed`.
    public mutating func feed(
        _ buffer: ByteBuffer,
        forward: (ByteBuffer) -> Void,
        held: (_ command: UInt8, _ packet: ByteBuffer) -> Bool
    ) -> Result {
        var input = buffer
        if var pending = collecting ?? carry {
            collecting = nil
            carry = nil
            pending.writeBuffer(&input)
            input = pending
        }
        while input.readableBytes > 0 {
            switch tracker.scan(input) {
            case .forward(let count):
                if count == input.readableBytes {
                    forward(input)
                    return .ok
                }
                if count > 0, let head = input.readSlice(length: count) { forward(head) }
                carry = Self.copy(input)
                return .ok
            case .held(let offset, let command):
                if offset > 0, let head = input.readSlice(length: offset) { forward(head) }
                let total = Self.packetLength(input)
                if total > limit { return .oversized(total) }
                guard input.readableBytes >= total, let packet = input.readSlice(length: total) else {
                    collecting = Self.copy(input)
                    return .ok
                }
                if !held(command, packet) {
                    if input.readableBytes > 0 { carry = Self.copy(input) }
                    return .paused
                }
            }
        }
        return .ok
    }

    /// Header + payload length of the packet starting at the reader index (the tracker only
    /// reports a held command when its header is complete).
    private static func packetLength(_ buffer: ByteBuffer) -> Int {
        let low = buffer.getInteger(at: buffer.readerIndex, endianness: .little, as: UInt16.self) ?? 0
        let high = buffer.getInteger(at: buffer.readerIndex + 2, as: UInt8.self) ?? 0
        return 4 + (Int(low) | Int(high) << 16)
    }

    private static func copy(_ buffer: ByteBuffer) -> ByteBuffer {
        var copy = ByteBufferAllocator().buffer(capacity: buffer.readableBytes)
        copy.writeImmutableBuffer(buffer)
        return copy
    }
}
