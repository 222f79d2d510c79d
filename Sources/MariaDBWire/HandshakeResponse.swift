import NIOCore

/// The client's login packet (mariadb-semantics.md §1.5): HandshakeResponse41, or the pre-4.1
/// "HandshakeResponse320" (caps(2) + max packet(3) + user NUL + auth [+ db]).
///
/// Decoding follows MariaDB's `parse_client_handshake_packet()`: the fields present and the auth-response
/// encoding are chosen from the *negotiated* capabilities (client ∩ server), not from the client's alone.
public struct HandshakeResponse: Sendable, Equatable {
    /// As written in this packet: low 32 bits, plus the extended word at offset 28 when `clientMySQL` is clear
    /// (pre-4.1: the 2-byte word). After TLS these may differ from the SSLRequest's, which MariaDB uses instead.
    public var capabilities: CapabilityFlags
    public var maxPacketSize: UInt32
    /// Client collation id (0 for pre-4.1 packets, which carry none).
    public var characterSet: UInt8
    /// Lossy UTF-8, with surrounding single quotes stripped and clipped to 128 characters, as MariaDB does.
    public var username: String
    /// Empty when the client sent no password.
    public var authResponse: [UInt8]
    /// nil unless CONNECT_WITH_DB was negotiated; may then be empty.
    public var database: String?
    /// nil when PLUGIN_AUTH was not negotiated or no bytes remained for it (MariaDB then assumes
    /// mysql_native_password, or mysql_old_password for pre-4.1 clients that sent a password).
    public var authPluginName: String?
    public var connectAttributes: [ConnectAttribute]
    /// Whether the packet used the 4.1 layout (32-byte fixed part).
    public var isProtocol41: Bool
    /// False when the user name has non-ASCII bytes in a character set the proxy cannot convert
    /// exactly as MariaDB would (then `username` is only a lossy rendering; fail closed).
    public var usernameIsExact = true

    /// MariaDB refuses connection attributes longer than this.
    public static let maxConnectAttributesLength = 65535
    /// MariaDB clips user names to this many characters.
    public static let maxUsernameCharacters = 128

    public init(
        capabilities: CapabilityFlags,
        maxPacketSize: UInt32 = 0x0100_0000,
        characterSet: UInt8 = 45,
        username: String,
        authResponse: [UInt8] = [],
        database: String? = nil,
        authPluginName: String? = nil,
        connectAttributes: [ConnectAttribute] = [],
        isProtocol41: Bool = true
    ) {
        self.capabilities = capabilities
        self.maxPacketSize = maxPacketSize
        self.characterSet = characterSet
        self.username = username
        self.authResponse = authResponse
        self.database = database
        self.authPluginName = authPluginName
        self.connectAttributes = connectAttributes
        self.isProtocol41 = isProtocol41
    }

    /// Decodes a HandshakeResponse.
    /// - Parameters:
    ///   - clientCapabilities: the capabilities to parse with. MariaDB takes them from the SSLRequest when TLS was
    ///     used, so pass those then; nil reads them from this packet.
    ///   - serverCapabilities: what the greeting advertised; parsing uses client ∩ server.
    public static func decode(
        _ payload: ByteBuffer, clientCapabilities: CapabilityFlags?, serverCapabilities: CapabilityFlags
    ) throws(WireError) -> HandshakeResponse {
        var reader = PayloadReader(payload, context: "handshake response")
        let total = payload.readableBytes

        let client: CapabilityFlags
        if let clientCapabilities {
            // The packet read after the TLS handshake must be at least NORMAL_HANDSHAKE_SIZE (6) bytes.
            guard total >= 6 else { throw reader.malformed("\(total) bytes after TLS, need at least 6") }
            client = clientCapabilities
        } else {
            guard let fromPacket = ClientFirstPacket.capabilities(of: payload) else {
                throw reader.malformed("\(total) bytes is too short")
            }
            client = fromPacket
        }
        let negotiated = client.intersection(serverCapabilities)

        // Fixed part: its layout follows the client's PROTOCOL_41 bit (from the SSLRequest after TLS).
        let isProtocol41 = client.contains(.protocol41)
        let capabilities: CapabilityFlags
        let maxPacketSize: UInt32
        var characterSet: UInt8 = 0
        if isProtocol41 {
            guard total >= 32 else { throw reader.malformed("\(total) bytes, PROTOCOL_41 needs at least 32") }
            let lower = try reader.readUInt32("capabilities")
            maxPacketSize = try reader.readUInt32("max packet size")
            characterSet = try reader.readUInt8("character set")
            try reader.skip(19, "filler")
            let extended = try reader.readUInt32("MariaDB extended capabilities")
            let classic = CapabilityFlags(lower: lower)
            capabilities = classic.carriesMariaDBExtendedCapabilities
                ? CapabilityFlags(lower: lower, extended: extended) : classic
        } else {
            guard total >= 5 else { throw reader.malformed("\(total) bytes, pre-4.1 needs at least 5") }
            capabilities = CapabilityFlags(lower: UInt32(try reader.readUInt16("capabilities")))
            maxPacketSize = try reader.readUInt24("max packet size")
        }

        // MariaDB converts the name from the client's character set before anything else.
        let rawUsername = try reader.readNullTerminated("user name")
        let converted = CharacterSetConversion.toUTF8(rawUsername, collation: UInt16(characterSet))
        let username = Self.serverUsername(converted.map { Array($0.utf8) } ?? rawUsername)
        let wantsDatabase = negotiated.contains(.connectWithDB)

        // Auth response, encoded per the negotiated flags. A field that runs to the end without its terminator
        // leaves MariaDB's cursor past the end (`overran`): nothing can follow it.
        var overran = false
        let authResponse: [UInt8]
        if !negotiated.contains(.secureConnection) {
            let (bytes, terminated) = reader.readNullTerminatedOrRest()
            if !terminated {
                if wantsDatabase { throw reader.malformed("missing auth response terminator") }
                overran = true
            }
            authResponse = bytes
        } else {
            if negotiated.contains(.pluginAuthLenencClientData) {
                authResponse = try reader.readLengthEncodedBytes("auth response")
            } else {
                let length = try reader.readUInt8("auth response length")
                authResponse = try reader.readBytes(Int(length), "auth response")
            }
            // MariaDB wants at least one byte (the database's) after the auth data when a database is negotiated.
            if wantsDatabase, reader.isAtEnd { throw reader.malformed("missing database") }
        }

        var database: String?
        if wantsDatabase {
            let (bytes, terminated) = reader.readNullTerminatedOrRest()
            database = String(wireBytes: bytes)
            if !terminated { overran = true }
        }

        var authPluginName: String?
        if negotiated.contains(.pluginAuth), !overran, !reader.isAtEnd {
            let (bytes, terminated) = reader.readNullTerminatedOrRest()
            authPluginName = String(wireBytes: bytes)
            if !terminated { overran = true }
        }

        var connectAttributes: [ConnectAttribute] = []
        if negotiated.contains(.connectAttrs) {
            guard !overran, !reader.isAtEnd else { throw reader.malformed("missing connection attributes") }
            let length = try reader.readLengthEncodedInteger("connection attributes")
            guard length <= UInt64(reader.remaining) else {
                throw reader.malformed("connection attributes run past the end")
            }
            guard length <= UInt64(maxConnectAttributesLength) else {
                throw reader.malformed("connection attributes longer than \(maxConnectAttributesLength) bytes")
            }
            guard let block = reader.buffer.readSlice(length: Int(length)) else {
                throw reader.malformed("connection attributes run past the end")
            }
            connectAttributes = Self.parseAttributes(block)
        }
        // Anything after the attributes (e.g. MySQL 8's zstd level) is ignored, as MariaDB does.

        var response = HandshakeResponse(
            capabilities: capabilities, maxPacketSize: maxPacketSize, characterSet: characterSet,
            username: username, authResponse: authResponse, database: database, authPluginName: authPluginName,
            connectAttributes: connectAttributes, isProtocol41: isProtocol41)
        response.usernameIsExact = converted != nil
        return response
    }

    /// Key/value pairs inside the attributes block. The server only validates the block's total length and keeps
    /// whatever pairs parse, so a malformed pair ends the list instead of failing the login.
    private static func parseAttributes(_ block: ByteBuffer) -> [ConnectAttribute] {
        var block = block
        var attributes: [ConnectAttribute] = []
        while block.readableBytes > 0 {
            guard let key = block.readLengthEncodedBytes(), let value = block.readLengthEncodedBytes() else { break }
            attributes.append(ConnectAttribute(key: String(wireBytes: key), value: String(wireBytes: value)))
        }
        return attributes
    }

    /// MariaDB strips one pair of surrounding single quotes, then clips the name to 128 characters.
    static func serverUsername(_ bytes: [UInt8]) -> String {
        var bytes = bytes[...]
        if bytes.count > 1, bytes.first == UInt8(ascii: "'"), bytes.last == UInt8(ascii: "'") {
            bytes = bytes.dropFirst().dropLast()
        }
        let name = String(decoding: bytes, as: UTF8.self)
        let scalars = name.unicodeScalars
        guard scalars.count > maxUsernameCharacters else { return name }
        return String(String.UnicodeScalarView(scalars.prefix(maxUsernameCharacters)))
    }

    /// The original payload with the capability words overwritten and every other byte unchanged. The layout is
    /// the payload's own: with PROTOCOL_41 set and ≥ 32 bytes, the low 32 bits go to offset 0 and the extended word
    /// to offset 28 (only when `clientMySQL` is clear in `capabilities`); otherwise the 2-byte pre-4.1 word.
    /// Payloads too short to hold a capability word are returned unchanged.
    public static func rewriteCapabilities(of payload: ByteBuffer, to capabilities: CapabilityFlags) -> ByteBuffer {
        var out = payload
        let start = out.readerIndex
        guard let low16 = out.getInteger(at: start, endianness: .little, as: UInt16.self) else { return out }
        if CapabilityFlags(lower: UInt32(low16)).contains(.protocol41), out.readableBytes >= 32 {
            out.setInteger(capabilities.lowerWord, at: start, endianness: .little)
            if capabilities.carriesMariaDBExtendedCapabilities {
                out.setInteger(capabilities.extendedWord, at: start + 28, endianness: .little)
            }
        } else {
            out.setInteger(UInt16(truncatingIfNeeded: capabilities.lowerWord), at: start, endianness: .little)
        }
        return out
    }

    /// Builds the packet from the fields (4.1 layout, or pre-4.1 when `isProtocol41` is false). Optional parts
    /// are written per `capabilities`, as if the server supported every flag: auth response lenenc with
    /// PLUGIN_AUTH_LENENC_CLIENT_DATA, else 1-byte length with SECURE_CONNECTION (clipped to 255 bytes), else
    /// NUL-terminated; database (empty if nil) with CONNECT_WITH_DB; plugin name with PLUGIN_AUTH when non-nil;
    /// attributes with CONNECT_ATTRS.
    public func encode(allocator: ByteBufferAllocator = .init()) -> ByteBuffer {
        let effective = isProtocol41 ? capabilities : CapabilityFlags(rawValue: capabilities.rawValue & 0xFFFF)
        var out = allocator.buffer(capacity: 64 + username.utf8.count + authResponse.count)
        if isProtocol41 {
            out.writeInteger(capabilities.lowerWord, endianness: .little)
            out.writeInteger(maxPacketSize, endianness: .little)
            out.writeInteger(characterSet)
            out.writeRepeatingByte(0, count: 19)
            out.writeInteger(capabilities.carriesMariaDBExtendedCapabilities ? capabilities.extendedWord : 0,
                             endianness: .little)
        } else {
            out.writeInteger(UInt16(truncatingIfNeeded: capabilities.lowerWord), endianness: .little)
            out.writeInteger(UInt16(truncatingIfNeeded: maxPacketSize), endianness: .little)
            out.writeInteger(UInt8(truncatingIfNeeded: maxPacketSize >> 16))
        }
        out.writeNullTerminatedBytes(Self.withoutNUL(Array(username.utf8)))

        if effective.contains(.pluginAuthLenencClientData) {
            out.writeLengthEncodedBytes(authResponse)
        } else if effective.contains(.secureConnection) {
            let clipped = authResponse.prefix(255)
            out.writeInteger(UInt8(clipped.count))
            out.writeBytes(clipped)
        } else {
            out.writeNullTerminatedBytes(Self.withoutNUL(authResponse))
        }
        if effective.contains(.connectWithDB) {
            out.writeNullTerminatedBytes(Self.withoutNUL(Array((database ?? "").utf8)))
        }
        if effective.contains(.pluginAuth), let authPluginName {
            out.writeNullTerminatedBytes(Self.withoutNUL(Array(authPluginName.utf8)))
        }
        if effective.contains(.connectAttrs) {
            var block = ByteBuffer()
            for attribute in connectAttributes {
                block.writeLengthEncodedString(attribute.key)
                block.writeLengthEncodedString(attribute.value)
            }
            out.writeLengthEncodedInteger(UInt64(block.readableBytes))
            out.writeImmutableBuffer(block)
        }
        return out
    }

    /// A NUL-terminated field cannot contain a NUL; cut at the first one.
    private static func withoutNUL(_ bytes: [UInt8]) -> ArraySlice<UInt8> {
        guard let nul = bytes.firstIndex(of: 0) else { return bytes[...] }
        return bytes[..<nul]
    }
}
