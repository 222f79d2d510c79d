import NIOCore

/// The client's plaintext request to upgrade to TLS (sql/sql_acl.cc parse_client_handshake_packet): the 32-byte fixed part of a
/// HandshakeResponse — caps(4), max packet(4), collation(1), 19 zero bytes, MariaDB extended caps(4) — with
/// CLIENT_SSL set. MariaDB takes the session's capabilities from this packet, not from the response sent after TLS.
public struct SSLRequest: Sendable, Equatable {
    /// Low 32 bits, plus the extended word when `clientMySQL` is clear (pre-4.1: the 2-byte word only).
    public var capabilities: CapabilityFlags
    public var maxPacketSize: UInt32
    public var characterSet: UInt8

    public init(capabilities: CapabilityFlags, maxPacketSize: UInt32, characterSet: UInt8) {
        self.capabilities = capabilities
        self.maxPacketSize = maxPacketSize
        self.characterSet = characterSet
    }

    /// The fixed part's length with PROTOCOL_41.
    public static let length = 32

    /// Decodes an SSLRequest. With PROTOCOL_41 it must be at least 32 bytes (longer packets are accepted and the
    /// tail ignored, as the server does); a pre-4.1 request needs only its 2-byte capability word.
    public static func decode(_ payload: ByteBuffer) throws(WireError) -> SSLRequest {
        var reader = PayloadReader(payload, context: "ssl request")
        let low16 = try reader.readUInt16("capabilities")
        var capabilities = CapabilityFlags(lower: UInt32(low16))
        var maxPacketSize: UInt32 = 0
        var characterSet: UInt8 = 0
        if capabilities.contains(.protocol41) {
            guard payload.readableBytes >= length else {
                throw reader.malformed("\(payload.readableBytes) bytes, PROTOCOL_41 needs \(length)")
            }
            let high16 = try reader.readUInt16("capabilities (upper)")
            maxPacketSize = try reader.readUInt32("max packet size")
            characterSet = try reader.readUInt8("character set")
            try reader.skip(19, "filler")
            let extended = try reader.readUInt32("MariaDB extended capabilities")
            capabilities = CapabilityFlags(lower: UInt32(low16) | UInt32(high16) << 16)
            if capabilities.carriesMariaDBExtendedCapabilities {
                capabilities = CapabilityFlags(lower: capabilities.lowerWord, extended: extended)
            }
        } else if reader.remaining >= 3 {
            maxPacketSize = try reader.readUInt24("max packet size")
        }
        guard capabilities.contains(.ssl) else { throw reader.malformed("CLIENT_SSL not set") }
        return SSLRequest(capabilities: capabilities, maxPacketSize: maxPacketSize, characterSet: characterSet)
    }

    /// The 32-byte payload (4.1 layout). The extended word is written only when `clientMySQL` is clear.
    public func encode(allocator: ByteBufferAllocator = .init()) -> ByteBuffer {
        var out = allocator.buffer(capacity: Self.length)
        out.writeInteger(capabilities.lowerWord, endianness: .little)
        out.writeInteger(maxPacketSize, endianness: .little)
        out.writeInteger(characterSet)
        out.writeRepeatingByte(0, count: 19)
        out.writeInteger(
            capabilities.carriesMariaDBExtendedCapabilities ? capabilities.extendedWord : 0,
            endianness: .little
        )
        return out
    }
}
