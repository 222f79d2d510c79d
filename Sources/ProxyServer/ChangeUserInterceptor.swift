import NIOCore

/// The relay's client → backend filter: forwards bytes as they come, but holds back each
/// `COM_CHANGE_USER` packet until it is complete and hands it over for the policy check.
///
/// Pure and allocation-free in the common case: a buffer with no change-user in it is passed on
/// unchanged. Only a header split across reads (≤ 4 bytes) or a change-user packet being
/// collected is copied.
struct ChangeUserInterceptor {
    enum Result: Equatable {
        case ok
        /// A COM_CHANGE_USER announced more than `limit` bytes: close the session.
        case oversized(Int)
        /// `changeUser` asked to stop after a packet: the bytes behind it are kept, unread, and go
        /// first on the next `feed` (an empty buffer resumes).
        case paused
    }

    private var tracker = CommandBoundaryTracker()
    /// Up to 4 bytes of a packet header split across reads.
    private var carry: ByteBuffer?
    /// A COM_CHANGE_USER packet being collected.
    private var held: ByteBuffer?
    let limit: Int

    init(limit: Int = 1 << 20) {
        self.limit = limit
    }

    /// Feeds client bytes. `forward` receives what may go to the backend now, in order;
    /// `changeUser` receives each complete COM_CHANGE_USER packet (header included) instead, and
    /// returns false to pause the stream behind it until the next `feed`.
    mutating func feed(
        _ buffer: ByteBuffer,
        forward: (ByteBuffer) -> Void,
        changeUser: (ByteBuffer) -> Bool
    ) -> Result {
        var input = buffer
        if var pending = held ?? carry {
            held = nil
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
            case .changeUser(let offset):
                if offset > 0, let head = input.readSlice(length: offset) { forward(head) }
                let total = Self.packetLength(input)
                if total > limit { return .oversized(total) }
                guard input.readableBytes >= total, let packet = input.readSlice(length: total) else {
                    held = Self.copy(input)
                    return .ok
                }
                if !changeUser(packet) {
                    if input.readableBytes > 0 { carry = Self.copy(input) }
                    return .paused
                }
            }
        }
        return .ok
    }

    /// Header + payload length of the packet starting at the reader index (the tracker only
    /// reports a change-user when its header is complete).
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
