import NIOCore

/// `COM_CHANGE_USER` (0x11): a new login inside an established session. MariaDB re-runs the
/// account's REQUIRE check on it, so the proxy must read at least the user name and whether a
/// password was sent.
public struct ChangeUserRequest: Sendable, Equatable {
    public var username: String
    /// Empty when the client sent no password.
    public var authResponse: [UInt8]
    public var database: String?
    public var characterSet: UInt16?
    public var authPluginName: String?
    /// False when the name has bytes the proxy cannot convert exactly as MariaDB would.
    public var usernameIsExact = true
    /// Set when the packet's character set is one MariaDB refuses as character_set_client (ucs2, utf16,
    /// utf16le, utf32): MariaDB answers ER_WRONG_VALUE_FOR_VAR.
    public var refusedCharacterSet: String?
    /// With CONNECT_ATTRS: where the connection attributes (length-encoded block) start in the payload.
    public var attributesOffset: Int?

    public init(
        username: String,
        authResponse: [UInt8] = [],
        database: String? = nil,
        characterSet: UInt16? = nil,
        authPluginName: String? = nil
    ) {
        self.username = username
        self.authResponse = authResponse
        self.database = database
        self.characterSet = characterSet
        self.authPluginName = authPluginName
    }

    /// Decodes the payload (starting with the 0x11 command byte) with the session's negotiated
    /// capabilities, as MariaDB's `parse_com_change_user_packet()` (sql/sql_acl.cc) lays it out: user NUL,
    /// auth data (1-byte length with SECURE_CONNECTION, else NUL-terminated), db NUL, then optionally the
    /// 2-byte character set, the plugin name (PLUGIN_AUTH) and connection attributes.
    /// `serverDefaultCollation`: the backend greeting's collation id. Without a character set of its own the
    /// name is converted from the server's default character set, not the login's: sql/sql_parse.cc
    /// dispatch_command resets the session (THD::change_user) before the packet is parsed.
    public static func decode(
        _ payload: ByteBuffer,
        capabilities: CapabilityFlags,
        serverDefaultCollation: UInt16? = nil
    ) throws(WireError) -> ChangeUserRequest {
        var reader = PayloadReader(payload, context: "COM_CHANGE_USER")
        guard try reader.readUInt8("command") == CommandByte.changeUser else {
            throw reader.malformed("not a COM_CHANGE_USER packet")
        }
        let user = try reader.readNullTerminated("user name")
        var auth: [UInt8]
        if capabilities.contains(.secureConnection) {
            let length = try reader.readUInt8("auth response length")
            auth = try reader.readBytes(Int(length), "auth response")
        } else {
            auth = try reader.readNullTerminated("auth response")
        }
        if auth == [0] { auth = [] }
        let database = reader.readNullTerminatedOrRest().bytes
        var request = ChangeUserRequest(
            username: "",
            authResponse: auth,
            database: database.isEmpty ? nil : String(decoding: database, as: UTF8.self)
        )
        if reader.remaining >= 2 {
            request.characterSet = try reader.readUInt16("character set")
        }
        // Converted to utf8mb3 into a 384-byte buffer; unlike the login, MariaDB neither strips quotes nor
        // clips the name to 128 characters here.
        let conversion = CharacterSetConversion.convertUsername(
            user,
            collation: request.characterSet,
            serverDefaultCollation: serverDefaultCollation
        )
        request.username = conversion.name
        request.usernameIsExact = conversion.isExact
        if case .refusedCharacterSet(let name) = conversion { request.refusedCharacterSet = name }
        if capabilities.contains(.pluginAuth), !reader.isAtEnd {
            let plugin = reader.readNullTerminatedOrRest().bytes
            request.authPluginName = String(decoding: plugin, as: UTF8.self)
        }
        if capabilities.contains(.connectAttrs) {
            request.attributesOffset = payload.readableBytes - reader.remaining
        }
        return request
    }

    /// The payload with its attribute block replaced by `block` (a length-encoded block follows the
    /// fields before ``attributesOffset``); nil when the packet has no attribute block or one whose
    /// length runs past the packet, which MariaDB refuses (sql/sql_acl.cc read_client_connect_attrs).
    public func payload(_ payload: ByteBuffer, replacingAttributesWith block: [UInt8]?) -> ByteBuffer? {
        guard let offset = attributesOffset, offset < payload.readableBytes,
            var rest = payload.getSlice(at: payload.readerIndex + offset, length: payload.readableBytes - offset),
            let length = rest.readLengthEncodedInteger(), length <= UInt64(rest.readableBytes)
        else { return nil }
        // Bytes after the block are ignored by MariaDB, and dropped here.
        var rewritten = payload.getSlice(at: payload.readerIndex, length: offset) ?? ByteBuffer()
        rewritten.writeLengthEncodedBytes(block ?? [])
        return rewritten
    }

    /// The attribute block the packet carries (see ``payload(_:replacingAttributesWith:)``).
    public func attributesBlock(in payload: ByteBuffer) -> [UInt8]? {
        guard let offset = attributesOffset, offset < payload.readableBytes,
            var rest = payload.getSlice(at: payload.readerIndex + offset, length: payload.readableBytes - offset),
            let length = rest.readLengthEncodedInteger(), length <= UInt64(rest.readableBytes)
        else { return nil }
        return Array(rest.readableBytesView.prefix(Int(length)))
    }

    /// Encodes a COM_CHANGE_USER payload (for tests and scripted clients).
    public func encode(capabilities: CapabilityFlags, allocator: ByteBufferAllocator = .init()) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: 64 + username.utf8.count + authResponse.count)
        buffer.writeInteger(CommandByte.changeUser)
        buffer.writeNullTerminatedString(username)
        if capabilities.contains(.secureConnection) {
            buffer.writeInteger(UInt8(min(authResponse.count, 255)))
            buffer.writeBytes(authResponse.prefix(255))
        } else {
            buffer.writeBytes(authResponse)
            buffer.writeInteger(UInt8(0))
        }
        buffer.writeNullTerminatedString(database ?? "")
        buffer.writeInteger(characterSet ?? 45, endianness: .little)
        if capabilities.contains(.pluginAuth) {
            buffer.writeNullTerminatedString(authPluginName ?? "mysql_native_password")
        }
        return buffer
    }
}
