import NIOCore

/// The client's login packet (sql/sql_acl.cc parse_client_handshake_packet): HandshakeResponse41, or the pre-4.1
/// "HandshakeResponse320" (caps(2) + max packet(3) + user NUL + auth [+ db]).
///
/// Decoding follows MariaDB's `parse_client_handshake_packet()` (sql/sql_acl.cc): the layout (4.1 or pre-4.1)
/// follows the client's PROTOCOL_41 bit, the fields present and the auth-response encoding follow the
/// *negotiated* capabilities (client ∩ server). Every field is kept as the bytes the client sent, so the packet
/// the backend gets (``encode(allocator:)`` with the capabilities it must see) carries exactly the user name the
/// proxy checked.
public struct HandshakeResponse: Sendable, Equatable {
    /// As written in this packet: low 32 bits, plus the extended word at offset 28 when `clientMySQL` is clear
    /// (pre-4.1: the 2-byte word). After TLS these may differ from the SSLRequest's, which MariaDB uses instead.
    /// ``encode(allocator:)`` writes these and lays the optional fields out by them.
    public var capabilities: CapabilityFlags
    public var maxPacketSize: UInt32
    /// Client collation id (0 for pre-4.1 packets, which carry none).
    public var characterSet: UInt8
    /// The user name as sent (before any conversion); what is forwarded.
    public var usernameBytes: [UInt8]
    /// The name MariaDB looks up: converted from the client's character set to utf8mb3 (clipped to 384 bytes),
    /// surrounding single quotes stripped, then clipped to 128 characters. A lossy rendering when
    /// `usernameIsExact` is false.
    public var username: String
    /// Empty when the client sent no password.
    public var authResponse: [UInt8]
    /// nil unless CONNECT_WITH_DB was negotiated; may then be empty.
    public var databaseBytes: [UInt8]?
    /// nil when PLUGIN_AUTH was not negotiated or no bytes remained for it (MariaDB then assumes
    /// mysql_native_password, or mysql_old_password for pre-4.1 clients that sent a password).
    public var authPluginNameBytes: [UInt8]?
    /// The connection attributes block (after its length), nil when CONNECT_ATTRS was not negotiated or the
    /// block is empty.
    public var connectAttributesBlock: [UInt8]?
    /// Whether the packet used the 4.1 layout (32-byte fixed part).
    public var isProtocol41: Bool
    /// False when the user name has bytes the proxy cannot convert exactly as MariaDB would (then `username` is
    /// only a lossy rendering; fail closed).
    public var usernameIsExact = true
    /// Set when the client's character set is one MariaDB refuses as character_set_client (ucs2, utf16,
    /// utf16le, utf32): MariaDB answers ER_WRONG_VALUE_FOR_VAR and ends the login.
    public var refusedCharacterSet: String?

    public var database: String? { databaseBytes.map { String(wireBytes: $0) } }
    public var authPluginName: String? { authPluginNameBytes.map { String(wireBytes: $0) } }
    public var connectAttributes: [ConnectAttribute] { Self.parseAttributes(connectAttributesBlock ?? []) }

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
        self.usernameBytes = Array(username.utf8)
        self.username = username
        self.authResponse = authResponse
        self.databaseBytes = database.map { Array($0.utf8) }
        self.authPluginNameBytes = authPluginName.map { Array($0.utf8) }
        var block = ByteBuffer()
        for attribute in connectAttributes {
            block.writeLengthEncodedString(attribute.key)
            block.writeLengthEncodedString(attribute.value)
        }
        self.connectAttributesBlock = connectAttributes.isEmpty ? nil : Array(block.readableBytesView)
        self.isProtocol41 = isProtocol41
    }

    /// Decodes a HandshakeResponse.
    /// - Parameters:
    ///   - clientCapabilities: the capabilities to parse with. MariaDB takes them from the SSLRequest when TLS was
    ///     used, so pass those then; nil reads them from this packet.
    ///   - serverCapabilities: what the greeting advertised; parsing uses client ∩ server.
    ///   - serverDefaultCollation: the backend greeting's collation id: the character set MariaDB converts a
    ///     pre-4.1 client's name from (and a name whose collation id it does not know).
    public static func decode(
        _ payload: ByteBuffer,
        clientCapabilities: CapabilityFlags?,
        serverCapabilities: CapabilityFlags,
        serverDefaultCollation: UInt16? = nil
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
            capabilities =
                classic.carriesMariaDBExtendedCapabilities
                ? CapabilityFlags(lower: lower, extended: extended) : classic
        } else {
            guard total >= 5 else { throw reader.malformed("\(total) bytes, pre-4.1 needs at least 5") }
            capabilities = CapabilityFlags(lower: UInt32(try reader.readUInt16("capabilities")))
            maxPacketSize = try reader.readUInt24("max packet size")
        }

        let usernameBytes = try reader.readNullTerminated("user name")
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

        var databaseBytes: [UInt8]?
        if wantsDatabase {
            let (bytes, terminated) = reader.readNullTerminatedOrRest()
            databaseBytes = bytes
            if !terminated { overran = true }
        }

        var authPluginNameBytes: [UInt8]?
        if negotiated.contains(.pluginAuth), !overran, !reader.isAtEnd {
            let (bytes, terminated) = reader.readNullTerminatedOrRest()
            authPluginNameBytes = bytes
            if !terminated { overran = true }
        }

        var connectAttributesBlock: [UInt8]?
        if negotiated.contains(.connectAttrs) {
            guard !overran, !reader.isAtEnd else { throw reader.malformed("missing connection attributes") }
            let length = try reader.readLengthEncodedInteger("connection attributes")
            guard length <= UInt64(reader.remaining) else {
                throw reader.malformed("connection attributes run past the end")
            }
            guard length <= UInt64(maxConnectAttributesLength) else {
                throw reader.malformed("connection attributes longer than \(maxConnectAttributesLength) bytes")
            }
            let block = try reader.readBytes(Int(length), "connection attributes")
            connectAttributesBlock = block.isEmpty ? nil : block
        }
        // Anything after the attributes (e.g. MySQL 8's zstd level) is ignored, as MariaDB does, and not forwarded.

        // The name is converted with the character set MariaDB set up from this login: the packet's collation id
        // with PROTOCOL_41 (sql/sql_connect.cc thd_init_client_charset), the server's default before 4.1.
        let conversion = CharacterSetConversion.convertUsername(
            usernameBytes,
            collation: isProtocol41 ? UInt16(characterSet) : nil,
            serverDefaultCollation: serverDefaultCollation
        )
        var response = HandshakeResponse(
            capabilities: capabilities,
            maxPacketSize: maxPacketSize,
            characterSet: characterSet,
            username: "",
            authResponse: authResponse,
            isProtocol41: isProtocol41
        )
        response.usernameBytes = usernameBytes
        response.username = Self.serverUsername(conversion.name)
        response.usernameIsExact = conversion.isExact
        if case .refusedCharacterSet(let name) = conversion { response.refusedCharacterSet = name }
        response.databaseBytes = databaseBytes
        response.authPluginNameBytes = authPluginNameBytes
        response.connectAttributesBlock = connectAttributesBlock
        return response
    }

    /// Key/value pairs inside the attributes block. The server only validates the block's total length and keeps
    /// whatever pairs parse, so a malformed pair ends the list instead of failing the login.
    private static func parseAttributes(_ bytes: [UInt8]) -> [ConnectAttribute] {
        var block = ByteBuffer(bytes: bytes)
        var attributes: [ConnectAttribute] = []
        while block.readableBytes > 0 {
            guard let key = block.readLengthEncodedBytes(), let value = block.readLengthEncodedBytes() else { break }
            attributes.append(ConnectAttribute(key: String(wireBytes: key), value: String(wireBytes: value)))
        }
        return attributes
    }

    /// After the conversion (already clipped to 384 bytes), MariaDB strips one pair of surrounding single quotes,
    /// then clips the name to 128 characters (sql/sql_acl.cc parse_client_handshake_packet).
    static func serverUsername(_ converted: String) -> String {
        var scalars = Array(converted.unicodeScalars)[...]
        if scalars.count > 1, scalars.first == "'", scalars.last == "'" {
            scalars = scalars.dropFirst().dropLast()
        }
        return String(String.UnicodeScalarView(scalars.prefix(maxUsernameCharacters)))
    }

    /// Builds the packet from the fields, in the 4.1 layout or (when `isProtocol41` is false) the pre-4.1 one,
    /// with `capabilities` in its capability word(s). Optional parts are written as a server that negotiated
    /// exactly `capabilities` reads them (sql/sql_acl.cc parse_client_handshake_packet): the auth response
    /// NUL-terminated without SECURE_CONNECTION, else lenenc with PLUGIN_AUTH_LENENC_CLIENT_DATA, else with a
    /// 1-byte length (clipped to 255 bytes); the database (empty if nil) with CONNECT_WITH_DB; the plugin name
    /// with PLUGIN_AUTH when present; the attributes block with CONNECT_ATTRS. Pre-4.1 only the low 16 bits
    /// exist. The proxy forwards a login by setting `capabilities` to what the backend must negotiate.
    public func encode(allocator: ByteBufferAllocator = .init()) -> ByteBuffer {
        let effective = isProtocol41 ? capabilities : CapabilityFlags(rawValue: capabilities.rawValue & 0xFFFF)
        var out = allocator.buffer(
            capacity: 64 + usernameBytes.count + authResponse.count
                + (connectAttributesBlock?.count ?? 0)
        )
        if isProtocol41 {
            out.writeInteger(capabilities.lowerWord, endianness: .little)
            out.writeInteger(maxPacketSize, endianness: .little)
            out.writeInteger(characterSet)
            out.writeRepeatingByte(0, count: 19)
            out.writeInteger(
                capabilities.carriesMariaDBExtendedCapabilities ? capabilities.extendedWord : 0,
                endianness: .little
            )
        } else {
            out.writeInteger(UInt16(truncatingIfNeeded: capabilities.lowerWord), endianness: .little)
            out.writeInteger(UInt16(truncatingIfNeeded: maxPacketSize), endianness: .little)
            out.writeInteger(UInt8(truncatingIfNeeded: maxPacketSize >> 16))
        }
        out.writeNullTerminatedBytes(Self.withoutNUL(usernameBytes))

        if !effective.contains(.secureConnection) {
            out.writeNullTerminatedBytes(Self.withoutNUL(authResponse))
        } else if effective.contains(.pluginAuthLenencClientData) {
            out.writeLengthEncodedBytes(authResponse)
        } else {
            let clipped = authResponse.prefix(255)
            out.writeInteger(UInt8(clipped.count))
            out.writeBytes(clipped)
        }
        if effective.contains(.connectWithDB) {
            out.writeNullTerminatedBytes(Self.withoutNUL(databaseBytes ?? []))
        }
        if effective.contains(.pluginAuth), let authPluginNameBytes {
            out.writeNullTerminatedBytes(Self.withoutNUL(authPluginNameBytes))
        }
        if effective.contains(.connectAttrs) {
            let block = connectAttributesBlock ?? []
            out.writeLengthEncodedInteger(UInt64(block.count))
            out.writeBytes(block)
        }
        return out
    }

    /// The packet to forward to a backend that must negotiate exactly `capabilities` (client ∩ server, minus
    /// what the backend must not switch on), in this packet's layout. MariaDB picks the layout from the
    /// client's PROTOCOL_41 bit, not the negotiated one, so the word written keeps that bit as the layout
    /// needs it. The backend then reads every field where the proxy read it.
    public func forwardedPayload(capabilities: CapabilityFlags, allocator: ByteBufferAllocator = .init()) -> ByteBuffer
    {
        var forwarded = self
        forwarded.capabilities = capabilities
        if isProtocol41 {
            forwarded.capabilities.insert(.protocol41)
        } else {
            forwarded.capabilities.remove(.protocol41)
        }
        return forwarded.encode(allocator: allocator)
    }

    /// A NUL-terminated field cannot contain a NUL; cut at the first one.
    private static func withoutNUL(_ bytes: [UInt8]) -> ArraySlice<UInt8> {
        guard let nul = bytes.firstIndex(of: 0) else { return bytes[...] }
        return bytes[..<nul]
    }
}
