import AccessPolicy
import MariaDBWire
import NIOCore
import ProxyTLS
import Testing

@testable import ProxyServer

/// The connection phase without sockets: every rule about what reaches the client and the
/// backend, with which sequence id, and when the credentials may be forwarded.
@Suite struct ClientLoginStateMachineTests {
    typealias Machine = ClientLoginStateMachine

    static let backendCapabilities: CapabilityFlags = [
        .longFlag, .connectWithDB, .compress, .protocol41, .interactive, .transactions, .secureConnection,
        .multiStatements, .multiResults, .psMultiResults, .pluginAuth, .connectAttrs, .pluginAuthLenencClientData,
        .sessionTrack, .mariaDBProgress, .mariaDBStmtBulkOperations,
    ]
    static let clientCapabilities: CapabilityFlags = [
        .longFlag, .protocol41, .transactions, .secureConnection, .multiResults, .pluginAuth,
        .pluginAuthLenencClientData, .mariaDBProgress,
    ]

    static func greeting() -> Packet {
        let greeting = InitialHandshake(
            serverVersion: "5.5.5-10.11.19-MariaDB",
            connectionID: 7,
            authPluginData: Array(1...20),
            capabilities: backendCapabilities,
            characterSet: 45,
            statusFlags: 2,
            authPluginName: "mysql_native_password"
        )
        return Packet(sequenceID: 0, payload: greeting.encode())
    }

    static func response(
        caps: CapabilityFlags = clientCapabilities,
        password: Bool = true,
        seq: UInt8,
        authResponse: [UInt8]? = nil
    ) -> Packet {
        let response = HandshakeResponse(
            capabilities: caps,
            username: "app",
            authResponse: authResponse ?? (password ? Array(repeating: 0xAB, count: 20) : []),
            authPluginName: "mysql_native_password"
        )
        return Packet(sequenceID: seq, payload: response.encode())
    }

    static func sslRequest() -> Packet {
        Packet(
            sequenceID: 1,
            payload: SSLRequest(capabilities: clientCapabilities.union(.ssl), maxPacketSize: 1 << 24, characterSet: 45)
                .encode()
        )
    }

    static let facts = TLSFacts(
        version: "TLSv1.3",
        cipher: "TLS_AES_256_GCM_SHA384",
        peerSubject: nil,
        peerIssuer: nil,
        verifyResult: 0,
        sessionReused: false
    )

    func machine(transport: ClientTransport = .tcp, requireSecureTransport: Bool = false, tls: Bool = true) -> Machine {
        var m = Machine(
            configuration: .init(
                transport: transport,
                requireSecureTransport: requireSecureTransport,
                tlsAvailable: tls
            )
        )
        _ = m.clientIdentified(transport == .tcp ? .tcp(ip: "127.0.0.1", resolvedHost: nil) : .unixSocket())
        return m
    }

    func sentToClient(_ actions: [Machine.Action]) -> [Packet] {
        actions.compactMap { if case .sendToClient(let p) = $0 { return p } else { return nil } }
    }

    func sentToBackend(_ actions: [Machine.Action]) -> [Packet] {
        actions.compactMap { if case .sendToBackend(let p) = $0 { return p } else { return nil } }
    }

    @Test func greetingGainsSSLAndLosesCompression() throws {
        var m = machine()
        let actions = m.backendGreetingReceived(Self.greeting())
        let packet = try #require(sentToClient(actions).first)
        #expect(packet.sequenceID == 0)
        let sent = try InitialHandshake.decode(packet.payload)
        #expect(sent.capabilities.contains(.ssl))
        #expect(!sent.capabilities.contains(.compress))
        #expect(sent.authPluginData == Array(1...20))
        #expect(sent.serverVersion == "5.5.5-10.11.19-MariaDB")
        #expect(sent.capabilities.contains(.mariaDBStmtBulkOperations))
    }

    @Test func greetingWaitsForTheClientIdentity() throws {
        var m = Machine(configuration: .init(transport: .tcp, requireSecureTransport: false, tlsAvailable: true))
        #expect(m.backendGreetingReceived(Self.greeting()).isEmpty)
        let actions = m.clientIdentified(.tcp(ip: "10.0.0.1", resolvedHost: "db.example.com"))
        #expect(sentToClient(actions).first?.sequenceID == 0)
    }

    @Test func aTimeoutBeforeTheGreetingIsTheBackendsFaultUnlessTheGreetingWaitsForTheClient() {
        var m = Machine(configuration: .init(transport: .tcp, requireSecureTransport: false, tlsAvailable: true))
        #expect(m.awaitingBackendGreeting)
        _ = m.backendGreetingReceived(Self.greeting())  // held: the client's host is still being resolved
        #expect(!m.awaitingBackendGreeting)
        _ = m.clientIdentified(.tcp(ip: "10.0.0.1", resolvedHost: nil))
        #expect(!m.awaitingBackendGreeting)
        var identified = machine()
        #expect(identified.awaitingBackendGreeting)
        _ = identified.backendGreetingReceived(Self.greeting())
        #expect(!identified.awaitingBackendGreeting)
    }

    @Test func noSSLOfferedWithoutCertificate() throws {
        var m = machine(tls: false)
        let packet = try #require(sentToClient(m.backendGreetingReceived(Self.greeting())).first)
        #expect(try !InitialHandshake.decode(packet.payload).capabilities.contains(.ssl))
    }

    @Test func plaintextLoginIsRelayedWithSameSequenceIDs() throws {
        var m = machine()
        _ = m.backendGreetingReceived(Self.greeting())
        let actions = m.clientPacketReceived(Self.response(seq: 1))
        let forwarded = try #require(sentToBackend(actions).first)
        #expect(forwarded.sequenceID == 1)
        // Backend's OK at seq 2 reaches the client at seq 2, and the relay starts.
        let final = m.backendPacketReceived(
            Packet(sequenceID: 2, payload: ByteBuffer(bytes: [0, 0, 0, 2, 0, 0, 0])),
            rules: .init()
        )
        #expect(sentToClient(final).first?.sequenceID == 2)
        #expect(final.contains(.startRelaying))
        #expect(m.outcome == .relayed)
        #expect(m.outcome.description == "relayed")
    }

    @Test func tlsLoginRenumbersBothWays() throws {
        var m = machine()
        _ = m.backendGreetingReceived(Self.greeting())
        let start = m.clientPacketReceived(Self.sslRequest())
        #expect(start.count == 1)
        guard case .startTLS(let failure) = start[0] else {
            Issue.record("expected startTLS")
            return
        }
        #expect(failure.sequenceID == 2)
        #expect(try ERRPacket.decode(failure.payload).code == 1043)
        #expect(!m.wantsClientPacket)
        _ = m.tlsEstablished(Self.facts)
        let forwarded = try #require(sentToBackend(m.clientPacketReceived(Self.response(seq: 2))).first)
        #expect(forwarded.sequenceID == 1)
        // CLIENT_SSL never reaches the plaintext backend.
        let rewritten = try HandshakeResponse.decode(
            forwarded.payload,
            clientCapabilities: nil,
            serverCapabilities: Self.backendCapabilities
        )
        #expect(!rewritten.capabilities.contains(.ssl))
        #expect(rewritten.username == "app")
        // AuthSwitch from the backend at seq 2 → client seq 3; client reply seq 4 → backend seq 3.
        var switchPayload = ByteBuffer(bytes: [0xFE])
        switchPayload.writeString("client_ed25519\0")
        switchPayload.writeBytes(Array(repeating: 1, count: 32))
        #expect(
            sentToClient(m.backendPacketReceived(Packet(sequenceID: 2, payload: switchPayload), rules: .init())).first?
                .sequenceID == 3
        )
        #expect(
            sentToBackend(
                m.clientPacketReceived(
                    Packet(sequenceID: 4, payload: ByteBuffer(bytes: Array(repeating: 2, count: 64)))
                )
            ).first?.sequenceID == 3
        )
        let err = MariaDBError.accessDenied(user: "app", host: "localhost", usingPassword: true)
        let final = m.backendPacketReceived(Packet(sequenceID: 4, payload: err.encode()), rules: .init())
        #expect(sentToClient(final).first?.sequenceID == 5)
        #expect(final.last == .close)
    }

    @Test func secureTransportRefusesPlaintextTCPBeforeReadingTheUser() throws {
        var m = machine(requireSecureTransport: true)
        _ = m.backendGreetingReceived(Self.greeting())
        // Even garbage after the fixed part: the check comes before parsing the user name.
        let actions = m.clientPacketReceived(Self.response(seq: 1))
        #expect(sentToBackend(actions).isEmpty)
        let err = try #require(sentToClient(actions).first)
        #expect(err.sequenceID == 2)
        let decoded = try ERRPacket.decode(err.payload)
        #expect(decoded.code == 3159)
        #expect(decoded.sqlState == "08004")
        #expect(
            decoded.message
                == "Connections using insecure transport are prohibited while --require_secure_transport=ON."
        )
        #expect(actions.last == .close)
        #expect(m.username == nil)
    }

    @Test func secureTransportAllowsUnixSocket() {
        var m = machine(transport: .unixSocket, requireSecureTransport: true)
        _ = m.backendGreetingReceived(Self.greeting())
        #expect(sentToBackend(m.clientPacketReceived(Self.response(seq: 1))).count == 1)
    }

    @Test func secureTransportAllowsTLS() {
        var m = machine(requireSecureTransport: true)
        _ = m.backendGreetingReceived(Self.greeting())
        _ = m.clientPacketReceived(Self.sslRequest())
        _ = m.tlsEstablished(Self.facts)
        #expect(sentToBackend(m.clientPacketReceived(Self.response(seq: 2))).count == 1)
    }

    @Test func compressionIsClearedEvenIfTheClientAsksForIt() throws {
        var m = machine()
        _ = m.backendGreetingReceived(Self.greeting())
        let forwarded = try #require(
            sentToBackend(m.clientPacketReceived(Self.response(caps: Self.clientCapabilities.union(.compress), seq: 1)))
                .first
        )
        let rewritten = try HandshakeResponse.decode(
            forwarded.payload,
            clientCapabilities: nil,
            serverCapabilities: Self.backendCapabilities
        )
        #expect(!rewritten.capabilities.contains(.compress))
    }

    @Test func malformedResponseIsBadHandshake() throws {
        var m = machine()
        _ = m.backendGreetingReceived(Self.greeting())
        let actions = m.clientPacketReceived(Packet(sequenceID: 1, payload: ByteBuffer(bytes: [0x05, 0x02])))
        let err = try #require(sentToClient(actions).first)
        #expect(try ERRPacket.decode(err.payload).code == 1043)
        #expect(err.sequenceID == 2)
        #expect(sentToBackend(actions).isEmpty)
    }

    @Test func wrongSequenceIsBadHandshake() throws {
        var m = machine()
        _ = m.backendGreetingReceived(Self.greeting())
        let actions = m.clientPacketReceived(Self.response(seq: 5))
        #expect(try ERRPacket.decode(try #require(sentToClient(actions).first).payload).code == 1043)
    }

    @Test func sslRequestWithoutTLSConfiguredIsBadHandshake() throws {
        var m = machine(tls: false)
        _ = m.backendGreetingReceived(Self.greeting())
        let actions = m.clientPacketReceived(Self.sslRequest())
        #expect(try ERRPacket.decode(try #require(sentToClient(actions).first).payload).code == 1043)
    }

    @Test func backendFailureBeforeGreetingHasNoSQLState() throws {
        var m = machine()
        let actions = m.backendFailed("backend 127.0.0.1:1: connection refused")
        let packet = try #require(sentToClient(actions).first)
        #expect(packet.sequenceID == 0)
        let err = try ERRPacket.decode(packet.payload)
        #expect(err.code == 1429)
        #expect(err.sqlState == nil)
        #expect(err.message.contains("127.0.0.1:1"))
    }

    @Test func backendFailureMidLoginUsesTheNextClientSequence() throws {
        var m = machine()
        _ = m.backendGreetingReceived(Self.greeting())
        _ = m.clientPacketReceived(Self.sslRequest())
        _ = m.tlsEstablished(Self.facts)
        _ = m.clientPacketReceived(Self.response(seq: 2))
        let packet = try #require(sentToClient(m.backendFailed("backend closed")).first)
        #expect(packet.sequenceID == 3)
        #expect(try ERRPacket.decode(packet.payload).sqlState == "HY000")
    }

    @Test func backendRefusalBeforeGreetingIsPassedOn() throws {
        var m = machine()
        let refusal = Packet(sequenceID: 0, payload: MariaDBError.tooManyConnections().encode(includeSQLState: false))
        let actions = m.backendGreetingReceived(refusal)
        #expect(sentToClient(actions) == [refusal])
        #expect(actions.last == .close)
    }

    @Test func packetsPipelinedBehindTheLoginWaitForTheRelay() {
        var m = machine()
        _ = m.backendGreetingReceived(Self.greeting())
        _ = m.clientPacketReceived(Self.response(seq: 1))
        // The backend has not asked anything: a pipelined command is not an auth reply.
        #expect(!m.wantsClientPacket)
        var switchPayload = ByteBuffer(bytes: [0xFE])
        switchPayload.writeString("mysql_native_password\0")
        switchPayload.writeBytes(Array(repeating: 1, count: 21))
        _ = m.backendPacketReceived(Packet(sequenceID: 2, payload: switchPayload), rules: .init())
        #expect(m.wantsClientPacket)
        #expect(
            sentToBackend(
                m.clientPacketReceived(
                    Packet(sequenceID: 3, payload: ByteBuffer(bytes: Array(repeating: 7, count: 20)))
                )
            ).first?.sequenceID == 3
        )
        #expect(!m.wantsClientPacket)
    }

    @Test func authReplyWithTheWrongSequenceIsOutOfOrder() throws {
        var m = machine()
        _ = m.backendGreetingReceived(Self.greeting())
        _ = m.clientPacketReceived(Self.response(seq: 1))
        var switchPayload = ByteBuffer(bytes: [0xFE])
        switchPayload.writeString("mysql_native_password\0")
        _ = m.backendPacketReceived(Packet(sequenceID: 2, payload: switchPayload), rules: .init())
        let actions = m.clientPacketReceived(Packet(sequenceID: 0, payload: ByteBuffer(bytes: [0x11, 0x41])))
        #expect(sentToBackend(actions).isEmpty)
        #expect(try ERRPacket.decode(try #require(sentToClient(actions).first).payload).code == 1156)
        #expect(actions.last == .close)
    }
}
