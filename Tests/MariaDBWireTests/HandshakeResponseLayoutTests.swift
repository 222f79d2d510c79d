import NIOCore
import Testing

@testable import MariaDBWire

/// HandshakeResponse layouts beyond the 4.1 one: capabilities taken from the SSLRequest, pre-4.1
/// responses, user names, truncations and the encoder's round trips.
extension HandshakeResponseTests {
    @Test func capabilitiesFromTheSSLRequestDecideTheLayout() throws {
        // After TLS, MariaDB parses with the SSLRequest's caps; this packet's own caps words are ignored.
        let sslCaps = Self.client.union(.ssl)
        var packet = Self.fullPacket
        packet.replaceSubrange(0..<4, with: le32(CapabilityFlags([.protocol41, .secureConnection]).lowerWord))
        packet.replaceSubrange(28..<32, with: [0, 0, 0, 0])
        let response = try HandshakeResponse.decode(
            buffer(packet),
            clientCapabilities: sslCaps,
            serverCapabilities: Self.server
        )
        #expect(response.capabilities == [.protocol41, .secureConnection])  // as written
        #expect(response.database == "shop")
        #expect(response.authPluginName == "mysql_native_password")
        #expect(response.connectAttributes.count == 2)
        // Without the SSLRequest caps the same bytes parse differently (no db, no plugin, no attributes).
        let naive = try HandshakeResponse.decode(
            buffer(packet),
            clientCapabilities: nil,
            serverCapabilities: Self.server
        )
        #expect(naive.database == nil)
        #expect(naive.authPluginName == nil)
        // The post-TLS packet must be at least 6 bytes.
        #expect(throws: WireError.self) {
            try HandshakeResponse.decode(
                buffer([1, 2, 3, 4, 5]),
                clientCapabilities: sslCaps,
                serverCapabilities: Self.server
            )
        }
    }

    @Test func pre41ResponseWithDatabase() throws {
        // caps 0x008D: CLIENT_MYSQL | LONG_FLAG | CONNECT_WITH_DB | LOCAL_FILES; max packet 0x010000.
        let packet =
            [0x8D, 0x00, 0x00, 0x00, 0x01] + ascii("bob") + [0] + ascii("abcdefgh") + [0] + ascii("test") + [0]
        let response = try HandshakeResponse.decode(
            buffer(packet),
            clientCapabilities: nil,
            serverCapabilities: Self.server
        )
        #expect(!response.isProtocol41)
        #expect(response.capabilities == [.clientMySQL, .longFlag, .connectWithDB, .localFiles])
        #expect(response.maxPacketSize == 0x01_0000)
        #expect(response.characterSet == 0)
        #expect(response.username == "bob")
        #expect(response.authResponse == ascii("abcdefgh"))
        #expect(response.database == "test")
        #expect(response.authPluginName == nil)
        #expect(bytes(response.encode()) == packet)
    }

    @Test func pre41ResponseAuthRunsToTheEnd() throws {
        let packet = [0x05, 0x00, 0xFF, 0xFF, 0xFF] + ascii("bob") + [0] + ascii("abcdefgh")
        let response = try HandshakeResponse.decode(
            buffer(packet),
            clientCapabilities: nil,
            serverCapabilities: Self.server
        )
        #expect(response.authResponse == ascii("abcdefgh"))
        #expect(response.database == nil)
        #expect(response.maxPacketSize == 0xFF_FFFF)
        // With a database negotiated the auth response must be terminated.
        let withDB = [0x0D, 0x00, 0xFF, 0xFF, 0xFF] + ascii("bob") + [0] + ascii("abcdefgh")
        #expect(throws: WireError.malformed("handshake response: missing auth response terminator")) {
            try HandshakeResponse.decode(buffer(withDB), clientCapabilities: nil, serverCapabilities: Self.server)
        }
    }

    @Test func usernameQuotesAndLength() throws {
        func name(_ raw: [UInt8]) throws -> String {
            let packet = Self.fixedPart([.protocol41, .secureConnection]) + raw + [0] + [0]
            return try HandshakeResponse.decode(
                buffer(packet),
                clientCapabilities: nil,
                serverCapabilities: Self.server
            )
            .username
        }
        #expect(try name(ascii("'root'")) == "root")
        #expect(try name(ascii("''")) == "")
        #expect(try name(ascii("'")) == "'")
        #expect(try name(ascii("'root")) == "'root")
        #expect(try name(ascii("o'brien")) == "o'brien")
        #expect(try name(ascii("")) == "")
        #expect(try name([0xC3, 0xA9, 0xFF]) == "é\u{FFFD}")
        let long = String(repeating: "é", count: 200)
        #expect(try name(ascii(long)) == String(repeating: "é", count: 128))
    }

    @Test func missingUsernameTerminator() {
        let packet = Self.fixedPart([.protocol41, .secureConnection]) + ascii("root")
        #expect(throws: WireError.malformed("handshake response: missing user name terminator")) {
            try HandshakeResponse.decode(buffer(packet), clientCapabilities: nil, serverCapabilities: Self.server)
        }
    }

    @Test func everyTruncationOfAFullLoginThrows() {
        let packet = Self.fullPacket
        for length in 0..<packet.count {
            let prefix = buffer(Array(packet[..<length]))
            #expect(throws: WireError.self) {
                try HandshakeResponse.decode(prefix, clientCapabilities: nil, serverCapabilities: Self.server)
            }
            #expect(throws: WireError.self) {
                try HandshakeResponse.decode(prefix, clientCapabilities: Self.client, serverCapabilities: Self.server)
            }
        }
    }

    @Test func everyTruncationOfOtherShapesNeverTraps() {
        let shapes: [[UInt8]] = [
            Self.fixedPart([.protocol41, .connectWithDB, .pluginAuth]) + ascii("u") + [0] + ascii("pw") + [0]
                + ascii("db") + [0] + ascii("plugin") + [0],
            [0x8D, 0x00, 0x00, 0x00, 0x01] + ascii("bob") + [0] + ascii("abcdefgh") + [0] + ascii("test") + [0],
        ]
        for packet in shapes {
            for length in 0...packet.count {
                for server in [Self.server, CapabilityFlags(rawValue: .max), []] {
                    _ = try? HandshakeResponse.decode(
                        buffer(Array(packet[..<length])),
                        clientCapabilities: nil,
                        serverCapabilities: server
                    )
                }
            }
            // Prefixes that end inside the user name always fail.
            let userEnd = packet.firstIndex(of: 0x75) ?? packet.firstIndex(of: 0x62)!
            for length in 0...userEnd {
                #expect(throws: WireError.self) {
                    try HandshakeResponse.decode(
                        buffer(Array(packet[..<length])),
                        clientCapabilities: nil,
                        serverCapabilities: Self.server
                    )
                }
            }
        }
    }

    @Test func encodeDecodeRoundTrips() throws {
        let all = CapabilityFlags(rawValue: 0x3F_FFFF_FFFE)
        let samples = [
            HandshakeResponse(
                capabilities: Self.client,
                username: "alice",
                authResponse: Self.scramble,
                database: "inventory",
                authPluginName: "mysql_native_password",
                connectAttributes: [
                    ConnectAttribute(key: "_os", value: "Linux"),
                    ConnectAttribute(key: "program_name", value: "mariadb"),
                ]
            ),
            HandshakeResponse(
                capabilities: [.protocol41, .secureConnection, .pluginAuth],
                maxPacketSize: 1,
                characterSet: 8,
                username: "x",
                authResponse: [0, 1, 2],
                authPluginName: "client_ed25519"
            ),
            HandshakeResponse(
                capabilities: [.clientMySQL, .protocol41, .secureConnection, .connectAttrs],
                username: "",
                connectAttributes: []
            ),
            HandshakeResponse(
                capabilities: [.clientMySQL, .longFlag],
                maxPacketSize: 0xFF_FFFF,
                characterSet: 0,
                username: "legacy",
                authResponse: ascii("scramble"),
                isProtocol41: false
            ),
        ]
        for sample in samples {
            #expect(
                try HandshakeResponse.decode(sample.encode(), clientCapabilities: nil, serverCapabilities: all)
                    == sample
            )
        }
    }
}
