import NIOCore

/// Classification of the first packet a client sends after the greeting: an SSLRequest or a HandshakeResponse.
public enum ClientFirstPacket: Sendable {
    /// The client capabilities exactly as MariaDB reads them from a first packet: the 2-byte word; with
    /// PROTOCOL_41 the upper 2 bytes too, and the extended word at offset 28 when `clientMySQL` is clear.
    /// nil when the server would reject the packet for its size alone (< 2 bytes, or PROTOCOL_41 and < 32 bytes).
    public static func capabilities(of payload: ByteBuffer) -> CapabilityFlags? {
        let start = payload.readerIndex
        guard let low16 = payload.getInteger(at: start, endianness: .little, as: UInt16.self) else { return nil }
        let classic = CapabilityFlags(lower: UInt32(low16))
        guard classic.contains(.protocol41) else { return classic }
        guard payload.readableBytes >= SSLRequest.length,
            let lower = payload.getInteger(at: start, endianness: .little, as: UInt32.self),
            let extended = payload.getInteger(at: start + 28, endianness: .little, as: UInt32.self)
        else { return nil }
        let capabilities = CapabilityFlags(lower: lower)
        return capabilities.carriesMariaDBExtendedCapabilities
            ? CapabilityFlags(lower: lower, extended: extended) : capabilities
    }

    /// True when this first packet asks for TLS: CLIENT_SSL is set and the packet is long enough for the server to
    /// accept it (≥ 32 bytes with PROTOCOL_41; a pre-4.1 client needs only its 2-byte capability word).
    public static func requestsTLS(_ payload: ByteBuffer) -> Bool {
        capabilities(of: payload)?.contains(.ssl) ?? false
    }
}
