import NIOCore

/// The server greeting, Initial Handshake protocol version 10 (sql/sql_acl.cc send_server_handshake_packet).
///
/// Decoding keeps the original payload, so ``payload(withCapabilities:)`` can re-emit the backend's greeting
/// byte-for-byte with only the capability words changed. The fields are a parsed view: changing them does not
/// alter ``rawPayload``; use ``encode(allocator:)`` to build a greeting from the fields instead.
public struct InitialHandshake: Sendable, Equatable {
    public var protocolVersion: UInt8
    /// E.g. `5.5.5-10.11.19-MariaDB-0+deb12u1` (10.x prefixes `5.5.5-`).
    public var serverVersion: String
    public var connectionID: UInt32
    /// Scramble part 1 + part 2 without the trailing NUL (20 bytes for mysql_native_password).
    public var authPluginData: [UInt8]
    /// Low 32 bits, plus the MariaDB extended word (bits 32–63) when bit 0 (`clientMySQL`) is clear.
    public var capabilities: CapabilityFlags
    /// Default collation id.
    public var characterSet: UInt8
    public var statusFlags: UInt16
    public var authPluginName: String?

    /// The payload this value was decoded from (or built by the memberwise initialiser).
    public private(set) var rawPayload: ByteBuffer
    /// Offset of the low capability word inside `rawPayload`'s readable bytes.
    private var capabilityOffset: Int

    /// Builds a greeting laid out the way MariaDB's `send_server_handshake_packet()` writes it.
    public init(
        protocolVersion: UInt8 = 10,
        serverVersion: String,
        connectionID: UInt32,
        authPluginData: [UInt8],
        capabilities: CapabilityFlags,
        characterSet: UInt8,
        statusFlags: UInt16,
        authPluginName: String?
    ) {
        self.protocolVersion = protocolVersion
        self.serverVersion = serverVersion
        self.connectionID = connectionID
        self.authPluginData = authPluginData
        self.capabilities = capabilities
        self.characterSet = characterSet
        self.statusFlags = statusFlags
        self.authPluginName = authPluginName
        self.rawPayload = ByteBuffer()
        self.capabilityOffset = 0
        (self.rawPayload, self.capabilityOffset) = Self.build(self, allocator: ByteBufferAllocator())
    }

    private init(
        protocolVersion: UInt8,
        serverVersion: String,
        connectionID: UInt32,
        authPluginData: [UInt8],
        capabilities: CapabilityFlags,
        characterSet: UInt8,
        statusFlags: UInt16,
        authPluginName: String?,
        rawPayload: ByteBuffer,
        capabilityOffset: Int
    ) {
        self.protocolVersion = protocolVersion
        self.serverVersion = serverVersion
        self.connectionID = connectionID
        self.authPluginData = authPluginData
        self.capabilities = capabilities
        self.characterSet = characterSet
        self.statusFlags = statusFlags
        self.authPluginName = authPluginName
        self.rawPayload = rawPayload
        self.capabilityOffset = capabilityOffset
    }

    /// Decodes a greeting payload.
    public static func decode(_ payload: ByteBuffer) throws(WireError) -> InitialHandshake {
        var reader = PayloadReader(payload, context: "greeting")
        let protocolVersion = try reader.readUInt8("protocol version")
        guard protocolVersion == 10 else {
            throw reader.malformed("unsupported protocol version \(protocolVersion)")
        }
        let serverVersion = String(wireBytes: try reader.readNullTerminated("server version"))
        let connectionID = try reader.readUInt32("connection id")
        let scramble1 = try reader.readBytes(8, "scramble part 1")
        try reader.skip(1, "filler")
        let capabilityOffset = payload.readableBytes - reader.remaining
        let capsLow = try reader.readUInt16("capabilities")
        let characterSet = try reader.readUInt8("character set")
        let statusFlags = try reader.readUInt16("status flags")
        let capsHigh = try reader.readUInt16("capabilities (upper)")
        let authDataLength = try reader.readUInt8("auth plugin data length")
        try reader.skip(6, "filler")
        let extended = try reader.readUInt32("MariaDB extended capabilities")

        var capabilities = CapabilityFlags(lower: UInt32(capsLow) | UInt32(capsHigh) << 16)
        if capabilities.carriesMariaDBExtendedCapabilities {
            capabilities = CapabilityFlags(lower: capabilities.lowerWord, extended: extended)
        }

        var authPluginData = scramble1
        if capabilities.contains(.secureConnection) {
            // Part 2 is max(13, len - 8) bytes and normally ends in a NUL that is not part of the scramble.
            var scramble2 = try reader.readBytes(max(13, Int(authDataLength) - 8), "scramble part 2")
            if scramble2.last == 0 { scramble2.removeLast() }
            authPluginData += scramble2
        }

        var authPluginName: String?
        if capabilities.contains(.pluginAuth), !reader.isAtEnd {
            // Some old servers omitted the terminator; take the rest then, as clients do.
            authPluginName = String(wireBytes: reader.readNullTerminatedOrRest().bytes)
        }

        return InitialHandshake(
            protocolVersion: protocolVersion,
            serverVersion: serverVersion,
            connectionID: connectionID,
            authPluginData: authPluginData,
            capabilities: capabilities,
            characterSet: characterSet,
            statusFlags: statusFlags,
            authPluginName: authPluginName,
            rawPayload: payload.slice(),
            capabilityOffset: capabilityOffset
        )
    }

    /// The original greeting byte-for-byte with the capability words replaced: low 16 bits, high 16 bits, and the
    /// 4 MariaDB extended bytes when bit 0 of `capabilities` is clear (otherwise those bytes are left as they were).
    public func payload(withCapabilities capabilities: CapabilityFlags) -> ByteBuffer {
        var out = rawPayload
        let base = out.readerIndex + capabilityOffset
        let word = capabilities.lowerWord
        out.setInteger(UInt16(truncatingIfNeeded: word), at: base, endianness: .little)
        out.setInteger(UInt16(truncatingIfNeeded: word >> 16), at: base + 5, endianness: .little)
        if capabilities.carriesMariaDBExtendedCapabilities {
            out.setInteger(capabilities.extendedWord, at: base + 14, endianness: .little)
        }
        return out
    }

    /// Builds a greeting from the current field values (MariaDB layout).
    public func encode(allocator: ByteBufferAllocator = .init()) -> ByteBuffer {
        Self.build(self, allocator: allocator).payload
    }

    private static func build(
        _ greeting: InitialHandshake,
        allocator: ByteBufferAllocator
    ) -> (payload: ByteBuffer, capabilityOffset: Int) {
        // MariaDB always sends at least 20 scramble bytes (padding short plugin data with zeros) plus a NUL.
        var data = Array(greeting.authPluginData.prefix(253))
        if data.count < 20 { data += [UInt8](repeating: 0, count: 20 - data.count) }
        data.append(0)

        var versionBytes = Array(greeting.serverVersion.utf8)
        if let nul = versionBytes.firstIndex(of: 0) { versionBytes.removeSubrange(nul...) }

        var out = allocator.buffer(capacity: 64 + versionBytes.count + data.count)
        out.writeInteger(greeting.protocolVersion)
        out.writeNullTerminatedBytes(versionBytes)
        out.writeInteger(greeting.connectionID, endianness: .little)
        out.writeBytes(data.prefix(8))
        out.writeInteger(UInt8(0))
        let capabilityOffset = out.readableBytes
        let caps = greeting.capabilities
        out.writeInteger(UInt16(truncatingIfNeeded: caps.lowerWord), endianness: .little)
        out.writeInteger(greeting.characterSet)
        out.writeInteger(greeting.statusFlags, endianness: .little)
        out.writeInteger(UInt16(truncatingIfNeeded: caps.lowerWord >> 16), endianness: .little)
        out.writeInteger(UInt8(data.count))  // MariaDB writes the length whatever the flags
        out.writeRepeatingByte(0, count: 6)
        out.writeInteger(caps.carriesMariaDBExtendedCapabilities ? caps.extendedWord : 0, endianness: .little)
        if caps.contains(.secureConnection) {
            out.writeBytes(data.dropFirst(8))
        }
        if caps.contains(.pluginAuth), let name = greeting.authPluginName {
            out.writeNullTerminatedString(name)
        }
        return (out, capabilityOffset)
    }
}
