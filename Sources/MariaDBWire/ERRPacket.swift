import NIOCore

/// ERR packet (sql/protocol.cc net_send_error_packet): 0xFF, error code (2, LE), optional `#` + 5-character SQLSTATE
/// (only when the session negotiated PROTOCOL_41; never before the greeting), then the message.
public struct ERRPacket: Sendable, Equatable, Error {
    public var code: UInt16
    public var sqlState: String?
    public var message: String

    /// MariaDB's message buffer is 512 bytes including the terminator.
    public static let maxMessageBytes = 511

    public init(code: UInt16, sqlState: String?, message: String) {
        self.code = code
        self.sqlState = sqlState
        self.message = message
    }

    /// Decodes an ERR packet. The SQLSTATE is recognised by its `#` marker, as clients do. Code 0xFFFF is a
    /// progress report, not an error, and is refused.
    public static func decode(_ payload: ByteBuffer) throws(WireError) -> ERRPacket {
        var reader = PayloadReader(payload, context: "err")
        let header = try reader.readUInt8("header")
        guard header == 0xFF else { throw reader.malformed("header 0x\(String(header, radix: 16))") }
        let code = try reader.readUInt16("error code")
        guard code != 0xFFFF else { throw reader.malformed("code 0xFFFF is a progress report") }
        var sqlState: String?
        if reader.remaining >= 6,
            reader.buffer.getInteger(at: reader.buffer.readerIndex, as: UInt8.self) == UInt8(ascii: "#")
        {
            try reader.skip(1, "sqlstate marker")
            sqlState = String(wireBytes: try reader.readBytes(5, "sqlstate"))
        }
        return ERRPacket(code: code, sqlState: sqlState, message: String(wireBytes: reader.readRest()))
    }

    /// Encodes the packet. With `sqlState` nil or `includeSQLState` false no `#` marker is written (pre-greeting
    /// errors). The SQLSTATE is forced to exactly 5 bytes (clipped, or padded with "0"); the message is clipped to
    /// 511 bytes at a character boundary.
    /// `collation`: the client's character set; MariaDB converts the message to it
    /// (character_set_results). nil or a set the proxy does not convert: UTF-8.
    public func encode(
        includeSQLState: Bool = true,
        collation: UInt16? = nil,
        allocator: ByteBufferAllocator = .init()
    ) -> ByteBuffer {
        let messageBytes =
            collation.flatMap { CharacterSetConversion.fromUTF8(message, collation: $0) }.map {
                Array($0.prefix(Self.maxMessageBytes))
            }
            ?? Self.clippedUTF8(message, maxBytes: Self.maxMessageBytes)
        var out = allocator.buffer(capacity: 9 + messageBytes.count)
        out.writeInteger(UInt8(0xFF))
        out.writeInteger(code, endianness: .little)
        if includeSQLState, let sqlState {
            var state = Array(sqlState.utf8.prefix(5))
            state += [UInt8](repeating: UInt8(ascii: "0"), count: 5 - state.count)
            out.writeInteger(UInt8(ascii: "#"))
            out.writeBytes(state)
        }
        out.writeBytes(messageBytes)
        return out
    }

    /// The longest prefix of `string`'s UTF-8 that fits `maxBytes` without splitting a character's encoding.
    static func clippedUTF8(_ string: String, maxBytes: Int) -> [UInt8] {
        let bytes = Array(string.utf8)
        guard bytes.count > maxBytes else { return bytes }
        var end = maxBytes
        // Back up over continuation bytes (10xxxxxx) to the start of the character that did not fit.
        while end > 0, bytes[end] & 0xC0 == 0x80 { end -= 1 }
        return Array(bytes[..<end])
    }
}
