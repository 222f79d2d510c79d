import NIOCore
import Testing

@testable import MariaDBWire

@Suite struct HandshakeResponseTests {
    /// What the proxy advertises: the 10.11 greeting plus CLIENT_SSL.
    static let server = RealGreeting.capabilities.union(.ssl)
    /// A Connector/C 3.x style client.
    static let client: CapabilityFlags = CapabilityFlags(lower: 0, extended: 0x1D).union([
        .longFlag, .connectWithDB, .localFiles, .protocol41, .interactive, .transactions, .secureConnection,
        .multiStatements, .multiResults, .psMultiResults, .pluginAuth, .connectAttrs,
        .pluginAuthLenencClientData, .sessionTrack,
    ])
    static let scramble: [UInt8] = (1...20).map { UInt8($0 * 7) }

    static func fixedPart(_ caps: CapabilityFlags, maxPacket: UInt32 = 0x4000_0000, charset: UInt8 = 45) -> [UInt8] {
        le32(caps.lowerWord) + le32(maxPacket) + [charset] + [UInt8](repeating: 0, count: 19)
            + le32(caps.carriesMariaDBExtendedCapabilities ? caps.extendedWord : 0)
    }

    static func attributesBlock(_ pairs: [(String, String)]) -> [UInt8] {
        var block = ByteBuffer()
        for (key, value) in pairs {
            block.writeLengthEncodedString(key)
            block.writeLengthEncodedString(value)
        }
        var out = ByteBuffer()
        out.writeLengthEncodedInteger(UInt64(block.readableBytes))
        out.writeImmutableBuffer(block)
        return bytes(out)
    }

    /// A full login as Connector/C writes it: user, lenenc scramble, db, plugin, attributes.
    static var fullPacket: [UInt8] {
        fixedPart(client) + ascii("app") + [0] + [20] + scramble + ascii("shop") + [0]
            + ascii("mysql_native_password") + [0]
            + attributesBlock([("_client_name", "libmariadb"), ("_pid", "4242")])
    }

    @Test func decodesFullConnectorCLogin() throws {
        let response = try HandshakeResponse.decode(
            buffer(Self.fullPacket),
            clientCapabilities: nil,
            serverCapabilities: Self.server
        )
        #expect(response.capabilities == Self.client)
        #expect(response.isProtocol41)
        #expect(response.maxPacketSize == 0x4000_0000)
        #expect(response.characterSet == 45)
        #expect(response.username == "app")
        #expect(response.authResponse == Self.scramble)
        #expect(response.database == "shop")
        #expect(response.authPluginName == "mysql_native_password")
        #expect(
            response.connectAttributes == [
                ConnectAttribute(key: "_client_name", value: "libmariadb"),
                ConnectAttribute(key: "_pid", value: "4242"),
            ]
        )
        #expect(bytes(response.encode()) == Self.fullPacket)
    }

    @Test func lenencAuthResponseLongerThan250Bytes() throws {
        let longAuth = [UInt8](repeating: 0xAB, count: 300)
        let packet =
            Self.fixedPart(Self.client) + ascii("u") + [0] + [0xFC, 0x2C, 0x01] + longAuth
            + ascii("db") + [0] + ascii("client_ed25519") + [0] + Self.attributesBlock([])
        let response = try HandshakeResponse.decode(
            buffer(packet),
            clientCapabilities: nil,
            serverCapabilities: Self.server
        )
        #expect(response.authResponse == longAuth)
        #expect(response.database == "db")
        #expect(response.authPluginName == "client_ed25519")
        #expect(response.connectAttributes.isEmpty)
        #expect(bytes(response.encode()) == packet)
    }

    @Test func oneByteLengthWhenLenencIsNotNegotiated() throws {
        // Same bytes, but the server lacks PLUGIN_AUTH_LENENC_CLIENT_DATA: the 1-byte length is used.
        let server = Self.server.subtracting(.pluginAuthLenencClientData)
        let response = try HandshakeResponse.decode(
            buffer(Self.fullPacket),
            clientCapabilities: nil,
            serverCapabilities: server
        )
        #expect(response.authResponse == Self.scramble)
        #expect(response.database == "shop")

        // A 0xFC first byte is a 252-byte length in the 1-byte encoding, not a lenenc prefix.
        let caps = Self.client.subtracting(.pluginAuthLenencClientData)
        let auth = [UInt8](repeating: 9, count: 252)
        let packet =
            Self.fixedPart(caps) + ascii("u") + [0] + [0xFC] + auth + [0] + ascii("p") + [0]
            + Self.attributesBlock([])
        let parsed = try HandshakeResponse.decode(
            buffer(packet),
            clientCapabilities: nil,
            serverCapabilities: Self.server
        )
        #expect(parsed.authResponse == auth)
        #expect(parsed.database == "")
        #expect(parsed.authPluginName == "p")
        #expect(bytes(parsed.encode()) == packet)
    }

    @Test func nullTerminatedAuthWhenSecureConnectionIsNotNegotiated() throws {
        let caps: CapabilityFlags = [.protocol41, .connectWithDB, .pluginAuth]
        let packet =
            Self.fixedPart(caps) + ascii("old") + [0] + ascii("12345678") + [0] + ascii("test") + [0]
            + ascii("mysql_old_password") + [0]
        let response = try HandshakeResponse.decode(
            buffer(packet),
            clientCapabilities: nil,
            serverCapabilities: Self.server
        )
        #expect(response.authResponse == ascii("12345678"))
        #expect(response.database == "test")
        #expect(response.authPluginName == "mysql_old_password")
        #expect(bytes(response.encode()) == packet)
        // Server without SECURE_CONNECTION forces the NUL-terminated encoding on a client that sent a length byte.
        let server = Self.server.subtracting([.secureConnection])
        let other = Self.fixedPart([.protocol41, .secureConnection]) + ascii("x") + [0] + ascii("pw") + [0]
        #expect(
            try HandshakeResponse.decode(buffer(other), clientCapabilities: nil, serverCapabilities: server)
                .authResponse == ascii("pw")
        )
    }

    @Test(arguments: [
        CapabilityFlags([.protocol41, .secureConnection, .pluginAuthLenencClientData]),
        CapabilityFlags([.protocol41, .secureConnection]),
        CapabilityFlags([.protocol41]),
    ])
    func emptyPasswordIsASingleZeroByteInEveryEncoding(caps: CapabilityFlags) throws {
        let withDB = caps.union(.connectWithDB)
        let packet = Self.fixedPart(withDB) + ascii("nopw") + [0] + [0] + ascii("db") + [0]
        let response = try HandshakeResponse.decode(
            buffer(packet),
            clientCapabilities: nil,
            serverCapabilities: Self.server
        )
        #expect(response.authResponse.isEmpty)
        #expect(response.database == "db")
        #expect(bytes(response.encode()) == packet)
    }

    @Test func databaseOnlyWhenNegotiated() throws {
        // Client sends a db but the server did not advertise CONNECT_WITH_DB: the db bytes are then read as the
        // plugin name, exactly as the server would…
        let server = Self.server.subtracting([.connectWithDB, .connectAttrs])
        let response = try HandshakeResponse.decode(
            buffer(Self.fullPacket),
            clientCapabilities: nil,
            serverCapabilities: server
        )
        #expect(response.database == nil)
        #expect(response.authPluginName == "shop")
        // …and the real plugin name then as the attributes' length ('m' = 109 bytes), which runs past the end.
        #expect(throws: WireError.malformed("handshake response: connection attributes run past the end")) {
            try HandshakeResponse.decode(
                buffer(Self.fullPacket),
                clientCapabilities: nil,
                serverCapabilities: Self.server.subtracting(.connectWithDB)
            )
        }

        let noDB = Self.client.subtracting(.connectWithDB)
        let packet =
            Self.fixedPart(noDB) + ascii("app") + [0] + [20] + Self.scramble
            + ascii("mysql_native_password") + [0] + Self.attributesBlock([("k", "v")])
        let parsed = try HandshakeResponse.decode(
            buffer(packet),
            clientCapabilities: nil,
            serverCapabilities: Self.server
        )
        #expect(parsed.database == nil)
        #expect(parsed.authPluginName == "mysql_native_password")
        #expect(parsed.connectAttributes == [ConnectAttribute(key: "k", value: "v")])
        #expect(bytes(parsed.encode()) == packet)
    }

    @Test func databaseMayRunToTheEnd() throws {
        let caps: CapabilityFlags = [.protocol41, .secureConnection, .connectWithDB]
        let unterminated = Self.fixedPart(caps) + ascii("u") + [0] + [0] + ascii("mydb")
        #expect(
            try HandshakeResponse.decode(
                buffer(unterminated),
                clientCapabilities: nil,
                serverCapabilities: Self.server
            ).database == "mydb"
        )
        // …but with a length-prefixed auth response at least one byte must follow it.
        let missing = Self.fixedPart(caps) + ascii("u") + [0] + [0]
        #expect(throws: WireError.malformed("handshake response: missing database")) {
            try HandshakeResponse.decode(buffer(missing), clientCapabilities: nil, serverCapabilities: Self.server)
        }
    }

    @Test func pluginNameAbsentOrUnterminated() throws {
        let caps: CapabilityFlags = [.protocol41, .secureConnection, .pluginAuth]
        let none = Self.fixedPart(caps) + ascii("u") + [0] + [2, 0xAA, 0xBB]
        let parsed = try HandshakeResponse.decode(
            buffer(none),
            clientCapabilities: nil,
            serverCapabilities: Self.server
        )
        #expect(parsed.authPluginName == nil)
        #expect(parsed.authResponse == [0xAA, 0xBB])
        let unterminated = none + ascii("auth_gssapi_client")
        #expect(
            try HandshakeResponse.decode(
                buffer(unterminated),
                clientCapabilities: nil,
                serverCapabilities: Self.server
            ).authPluginName == "auth_gssapi_client"
        )
        // PLUGIN_AUTH not negotiated: trailing bytes are not a plugin name.
        #expect(
            try HandshakeResponse.decode(
                buffer(unterminated),
                clientCapabilities: nil,
                serverCapabilities: Self.server.subtracting(.pluginAuth)
            ).authPluginName == nil
        )
    }

    @Test func connectAttributeLimits() throws {
        let caps: CapabilityFlags = [.protocol41, .secureConnection, .connectAttrs]
        let head = Self.fixedPart(caps) + ascii("u") + [0] + [0]
        // Exactly 65535 bytes of attributes is allowed; 65536 is not.
        let value = String(repeating: "v", count: 65535 - 1 - 3 - 1)  // key "k" (1+1) + value (3+n)
        let okBlock = Self.attributesBlock([("k", value)])
        #expect(okBlock.prefix(3) == [0xFC, 0xFF, 0xFF])
        let parsed = try HandshakeResponse.decode(
            buffer(head + okBlock),
            clientCapabilities: nil,
            serverCapabilities: Self.server
        )
        #expect(parsed.connectAttributes.first?.value.count == value.count)

        let tooLong = Self.attributesBlock([("k", value + "v")])
        #expect(throws: WireError.malformed("handshake response: connection attributes longer than 65535 bytes")) {
            try HandshakeResponse.decode(
                buffer(head + tooLong),
                clientCapabilities: nil,
                serverCapabilities: Self.server
            )
        }
        #expect(throws: WireError.malformed("handshake response: connection attributes run past the end")) {
            try HandshakeResponse.decode(
                buffer(head + [0x10, 1, 2]),
                clientCapabilities: nil,
                serverCapabilities: Self.server
            )
        }
        #expect(throws: WireError.malformed("handshake response: missing connection attributes")) {
            try HandshakeResponse.decode(buffer(head), clientCapabilities: nil, serverCapabilities: Self.server)
        }
        // Trailing bytes after the block (e.g. a MySQL 8 zstd level) are ignored.
        #expect(
            try HandshakeResponse.decode(
                buffer(head + [0] + [3]),
                clientCapabilities: nil,
                serverCapabilities: Self.server
            ).connectAttributes.isEmpty
        )
        // A malformed pair inside a well-sized block ends the list but not the login (the server only checks the total).
        let ragged = head + [5, 1, 0x6B, 1, 0x76, 0x09]
        #expect(
            try HandshakeResponse.decode(buffer(ragged), clientCapabilities: nil, serverCapabilities: Self.server)
                .connectAttributes == [ConnectAttribute(key: "k", value: "v")]
        )
    }
}
