import MariaDBWire
import NIOCore

/// Finds where each client command starts in the relayed client → backend byte stream, so that a
/// `COM_CHANGE_USER` can be held back and checked against the access policy before the backend
/// sees it (MariaDB re-runs REQUIRE on it; without this a client could log in as an account with
/// no requirement and then switch to one that has one).
///
/// Only packet headers are read: a command starts at a packet with sequence id 0 (continuation
/// packets of a ≥ 16 MiB command, LOAD DATA contents and auth round trips have other ids). No
/// allocation; the caller keeps at most 4 carried bytes when a buffer ends inside a header.
struct CommandBoundaryTracker {
    enum Scan: Equatable {
        /// Forward the first `count` readable bytes. Keep the rest (< 5 bytes, an incomplete header
        /// plus command byte) and present it again in front of the next bytes.
        case forward(count: Int)
        /// A COM_CHANGE_USER packet's header starts at this offset: forward the bytes before it,
        /// hold the packet until it is complete.
        case changeUser(offset: Int)
    }

    /// Payload bytes of the current packet not yet seen.
    private var payloadRemaining = 0

    mutating func scan(_ buffer: ByteBuffer) -> Scan {
        let end = buffer.readableBytes
        var offset = 0
        let base = buffer.readerIndex
        while true {
            if payloadRemaining > 0 {
                let skip = min(payloadRemaining, end - offset)
                offset += skip
                payloadRemaining -= skip
                if payloadRemaining > 0 { return .forward(count: end) }
            }
            let available = end - offset
            if available == 0 { return .forward(count: end) }
            guard available >= 4,
                  let low = buffer.getInteger(at: base + offset, endianness: .little, as: UInt16.self),
                  let high = buffer.getInteger(at: base + offset + 2, as: UInt8.self),
                  let sequenceID = buffer.getInteger(at: base + offset + 3, as: UInt8.self)
            else { return .forward(count: offset) }
            let length = Int(low) | Int(high) << 16
            if sequenceID == 0 && length > 0 {
                guard available >= 5, let command = buffer.getInteger(at: base + offset + 4, as: UInt8.self) else {
                    return .forward(count: offset)
                }
                if command == CommandByte.changeUser {
                    return .changeUser(offset: offset)
                }
            }
            offset += 4
            payloadRemaining = length
        }
    }
}
