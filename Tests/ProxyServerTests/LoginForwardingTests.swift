import AccessPolicy
import MariaDBWire
import NIOCore
import ProxyTLS
import Testing

@testable import ProxyServer

/// What the backend gets is what the proxy checked: the forwarded login decoded as the backend
/// decodes it (no SSLRequest, capabilities from the packet) names the user the policy saw; names are
/// converted with the character set MariaDB would use; COM_MULTI is not offered.
@Suite struct LoginForwardingTests {
    typealias Machine = ClientLoginStateMachine
    typealias T = ClientLoginStateMachineTests

    static let policy: AccessPolicy = {
        let text = """
            CREATE USER 'x509_twenty_three_chars'@'%' REQUIRE X509;
            CREATE USER 'bé'@'%';
            CREATE USER 'bÃ©'@'%' REQUIRE X509;
            CREATE USER 'a|b'@'%';
            CREATE USER 'aöb'@'%' REQUIRE X509;
            """
        return try! AccessPolicy.parse(text, fileName: "accounts.sql")
    }()

    /// A backend greeting with the given default collation (the server's default character set).
    static func greeting(collation: UInt8 = 45, extra: CapabilityFlags = []) -> Packet {
        let greeting = InitialHandshake(
            serverVersion: "5.5.5-10.5.27-MariaDB",
            connectionID: 7,
            authPluginData: Array(1...20),
            capabilities: T.backendCapabilities.union(extra),
            characterSet: collation,
            statusFlags: 2,
            authPluginName: "mysql_native_password"
        )
        return Packet(sequenceID: 0, payload: greeting.encode())
    }

    static let rules = Machine.AccountRules(policy: policy)
    static let okPayload = ByteBuffer(bytes: [0, 0, 0, 2, 0, 0, 0])

    func machine() -> Machine {
        var m = Machine(configuration: .init(transport: .tcp, requireSecureTransport: false, tlsAvailable: true))
        _ = m.clientIdentified(.tcp(ip: "127.0.0.1", resolvedHost: nil))
        return m
    }

    /// The answer to the backend accepting the login: relayed, or MariaDB's 1045 for the account.
    func backendAccepts(_ m: inout Machine) -> [Machine.Action] {
        m.backendPacketReceived(Packet(sequenceID: 2, payload: Self.okPayload), rules: Self.rules)
    }

    func sentToBackend(_ actions: [Machine.Action]) -> [Packet] {
        actions.compactMap { if case .sendToBackend(let p) = $0 { return p } else { return nil } }
    }

    func sentToClient(_ actions: [Machine.Action]) -> [Packet] {
        actions.compactMap { if case .sendToClient(let p) = $0 { return p } else { return nil } }
    }

    /// The backend's reading of a forwarded packet.
    func asBackend(_ packet: Packet) throws -> HandshakeResponse {
        try HandshakeResponse.decode(packet.payload, clientCapabilities: nil, serverCapabilities: T.backendCapabilities)
    }

    @Test func pre41SSLRequestThen41ResponseForwardsTheUserThatWasChecked() throws {
        var m = machine()
        _ = m.backendGreetingReceived(Self.greeting())
        let sslCaps = CapabilityFlags([.ssl, .secureConnection, .transactions])
        var sslRequest = ByteBuffer()
        sslRequest.writeInteger(UInt16(sslCaps.lowerWord), endianness: .little)
        guard case .startTLS = m.clientPacketReceived(Packet(sequenceID: 1, payload: sslRequest)).first else {
            Issue.record("a 2-byte SSLRequest starts TLS")
            return
        }
        _ = m.tlsEstablished(T.facts)
        let fourOne = CapabilityFlags([.protocol41, .secureConnection, .transactions, .ssl])
        var response = ByteBuffer()
        response.writeInteger(UInt16(fourOne.lowerWord), endianness: .little)
        response.writeBytes([0, 0, 0] + Array("x509_twenty_three_charsABCD".utf8) + [0, 0])
        let actions = m.clientPacketReceived(Packet(sequenceID: 2, payload: response))
        let forwarded = try #require(sentToBackend(actions).first)
        #expect(m.username == "x509_twenty_three_charsABCD")
        let backend = try asBackend(forwarded)
        #expect(!backend.isProtocol41)
        #expect(backend.username == m.username)
        #expect(!backend.capabilities.contains(.ssl))
    }

    @Test func forwardedCapabilitiesAreTheNegotiatedOnes() throws {
        var m = machine()
        _ = m.backendGreetingReceived(Self.greeting())
        // The client asks for bits the backend does not have (FOUND_ROWS, DEPRECATE_EOF, an extended bit).
        let asked = T.clientCapabilities.union([.foundRows, .deprecateEOF, .mariaDBCacheMetadata])
        let forwarded = try #require(sentToBackend(m.clientPacketReceived(T.response(caps: asked, seq: 1))).first)
        let backend = try asBackend(forwarded)
        #expect(backend.capabilities == T.clientCapabilities.intersection(T.backendCapabilities))
        #expect(m.sessionCapabilities == backend.capabilities)
    }

    @Test func comMultiIsNotOffered() throws {
        var m = machine()
        let greeting = m.backendGreetingReceived(Self.greeting(extra: .mariaDBComMulti))
        let sent = try InitialHandshake.decode(try #require(sentToClient(greeting).first).payload)
        #expect(!sent.capabilities.contains(.mariaDBComMulti))
        // Nor forwarded when a client asks for it anyway.
        let forwarded = try #require(
            sentToBackend(
                m.clientPacketReceived(
                    T.response(caps: T.clientCapabilities.union(.mariaDBComMulti), seq: 1)
                )
            ).first
        )
        #expect(!(try asBackend(forwarded)).capabilities.contains(.mariaDBComMulti))
    }

    @Test func ucs2LoginIsRefusedAsMariaDBDoes() throws {
        var m = machine()
        _ = m.backendGreetingReceived(Self.greeting())
        let response = HandshakeResponse(capabilities: T.clientCapabilities, characterSet: 35, username: "a|b")
        let actions = m.clientPacketReceived(Packet(sequenceID: 1, payload: response.encode()))
        #expect(sentToBackend(actions).isEmpty)
        let err = try #require(sentToClient(actions).first)
        #expect(err.sequenceID == 2)
        let decoded = try ERRPacket.decode(err.payload)
        #expect(decoded.code == 1231)
        #expect(decoded.sqlState == "42000")
        #expect(decoded.message == "Variable 'character_set_client' can't be set to the value of 'ucs2'")
        #expect(actions.last == .close)
    }

    @Test func swe7NamesAreConverted() throws {
        var m = machine()
        _ = m.backendGreetingReceived(Self.greeting())
        let response = HandshakeResponse(capabilities: T.clientCapabilities, characterSet: 10, username: "a|b")
        _ = m.clientPacketReceived(Packet(sequenceID: 1, payload: response.encode()))
        let actions = backendAccepts(&m)  // 'aöb' needs X509
        #expect(try ERRPacket.decode(try #require(sentToClient(actions).first).payload).code == 1045)
    }

    /// Logged in over plaintext as 'a|b' (utf8mb4), on a backend whose default character set is `collation`.
    func relayingMachine(serverCollation: UInt8) throws -> Machine {
        var m = machine()
        _ = m.backendGreetingReceived(Self.greeting(collation: serverCollation))
        let response = HandshakeResponse(capabilities: T.clientCapabilities, characterSet: 45, username: "a|b")
        #expect(sentToBackend(m.clientPacketReceived(Packet(sequenceID: 1, payload: response.encode()))).count == 1)
        _ = m.backendPacketReceived(Packet(sequenceID: 2, payload: Self.okPayload), rules: Self.rules)
        #expect(m.isRelaying)
        return m
    }

    @Test func changeUserWithoutACharacterSetIsExactOnlyInASCII() throws {
        // 0x11, "bé" in UTF-8, NUL, empty auth, empty db, no character set field: MariaDB reads it in
        // its global character_set_client, which neither the greeting nor the login shows.
        let payload = ByteBuffer(bytes: [0x11, 0x62, 0xC3, 0xA9, 0x00, 0x00, 0x00])
        for collation: UInt8 in [8, 45] {
            var m = try relayingMachine(serverCollation: collation)
            guard case .refuse(let answer) = m.changeUserRequested(payload, rules: Self.rules) else {
                Issue.record("a non-ASCII name without a character set must be refused (server collation \(collation))")
                return
            }
            #expect(try ERRPacket.decode(answer.payload).code == 1045)
        }
        // 'a|b' in ASCII is the same in every set the backend may use.
        var m = try relayingMachine(serverCollation: 8)
        #expect(
            m.changeUserRequested(ByteBuffer(bytes: [0x11, 0x61, 0x7C, 0x62, 0x00, 0x00, 0x00]), rules: Self.rules)
                == .forward
        )
    }

    @Test func changeUserInUTF16IsRefusedWith1231() throws {
        var m = try relayingMachine(serverCollation: 8)
        let payload = ByteBuffer(bytes: [0x11, 0x61, 0x00, 0x00, 0x00, 0x36, 0x00])
        guard case .refuse(let answer) = m.changeUserRequested(payload, rules: Self.rules) else {
            Issue.record("utf16 is refused")
            return
        }
        #expect(answer.sequenceID == 1)
        #expect(try ERRPacket.decode(answer.payload).code == 1231)
    }
}
