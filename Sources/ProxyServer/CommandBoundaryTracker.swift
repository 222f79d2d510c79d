import MariaDBWire
import NIOCore

/// Finds where each client command starts in the relayed client → backend byte stream, so that a
/// `COM_CHANGE_USER` can be held back and checked against the access policy before the backend
/// sees it (MariaDB re-runs REQUIRE on it; without this a client could log in as an account with
/// no requirement and then switch to one that has one), and a `COM_MULTI` (which a 10.2–10.5
/// backend would unpack and run, COM_CHANGE_USER included) never reaches it.
///
/// Only packet headers and each command's first byte are read, following the server's own rules
/// for what the next client packet is:
/// - after a packet of exactly 0xFFFFFF bytes comes a continuation of the same message;
/// - after a `COM_QUERY`, a packet with a non-zero sequence id starts LOAD DATA LOCAL file
///   contents, which run until an empty packet — their ids wrap through 0, so inside them 0 is
///   not a command (a server that did not ask for a file closes the connection on such a packet);
/// - otherwise a packet with sequence id 0 is a new command; other ids are replies within the
///   current command (a COM_CHANGE_USER's authentication round trips).
/// No allocation; the caller keeps at most 4 carried bytes when a buffer ends inside a header.
struct CommandBoundaryTracker {
    enum Scan: Equatable {
        /// Forward the first `count` readable bytes. Keep the rest (< 5 bytes, an incomplete header
        /// plus command byte) and present it again in front of the next bytes.
        case forward(count: Int)
        /// A packet the proxy must see whole before anything is forwarded — COM_CHANGE_USER or
        /// COM_MULTI (`command`) — starts its header at this offset: forward the bytes before it,
        /// hold the packet until it is complete, then scan on from the byte after it.
        case held(offset: Int, command: UInt8)
    }

    /// Payload bytes of the current packet not yet seen.
    private var payloadRemaining = 0
    /// The previous packet was 0xFFFFFF bytes long: the next one continues it.
    private var continuation = false
    /// The last complete message was a COM_QUERY (a LOAD DATA LOCAL request may follow).
    private var afterQuery = false
    /// Inside LOAD DATA LOCAL file contents.
    private var inLocalInfile = false

    /// The commands held back whole: COM_CHANGE_USER (checked) and COM_MULTI (refused).
    static let heldCommands: Set<UInt8> = [CommandByte.changeUser, CommandByte.multi]

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
            let isCommandStart = !continuation && !inLocalInfile && sequenceID == 0 && length > 0
            if isCommandStart {
                guard available >= 5, let command = buffer.getInteger(at: base + offset + 4, as: UInt8.self) else {
                    return .forward(count: offset)
                }
                if Self.heldCommands.contains(command) {
                    afterQuery = false
                    continuation = false
                    return .held(offset: offset, command: command)
                }
                afterQuery = command == CommandByte.query
            } else if continuation {
                // Part of the message before; its kind does not change.
            } else if inLocalInfile {
                if length == 0 { inLocalInfile = false }
            } else if afterQuery && sequenceID != 0 {
                // The server asked for a local file: contents follow until an empty packet.
                inLocalInfile = length > 0
                afterQuery = false
            } else {
                afterQuery = false
            }
            continuation = length == 0xFF_FFFF
            offset += 4
            payloadRemaining = length
        }
    }
}
