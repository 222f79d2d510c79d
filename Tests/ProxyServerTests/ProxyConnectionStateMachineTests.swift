import AccessPolicy
import MariaDBWire
import NIOCore
import ProxyTLS
import Testing

@testable import ProxyServer

/// The connection's lifecycle without channels: every state the machine can be in, the way from
/// one to the next, who is blamed for a timeout, half-close in both orders, backpressure, the
/// COM_CHANGE_USER pause, and the outcome reported when both channels are closed.
@Suite struct ProxyConnectionStateMachineTests {
    typealias Machine = ProxyConnectionStateMachine
    typealias L = ClientLoginStateMachineTests

    static let okPayload: [UInt8] = [0, 0, 0, 2, 0, 0, 0]
    static let client = ClientIdentity.tcp(ip: "127.0.0.1", resolvedHost: nil)

    static func machine(tls: Bool = false, proxyHeader: Bool = false, bufferLimit: Int = 1 << 20) -> Machine {
        Machine(
            configuration: .init(
                backendName: "127.0.0.1:3306",
                connectTimeoutSeconds: 10,
                sendsProxyHeader: proxyHeader,
                loginBufferLimit: bufferLimit
            ),
            login: ClientLoginStateMachine(
                configuration: .init(transport: .tcp, requireSecureTransport: false, tlsAvailable: tls)
            )
        )
    }

    static func wire(_ packet: Packet) -> ByteBuffer {
        encodePacket(sequenceID: packet.sequenceID, payload: packet.payload)
    }
    static func rules() -> ClientLoginStateMachine.AccountRules { .init() }

    static func steps(_ action: Machine.Action) -> [Machine.LoginStep] {
        if case .login(let steps) = action { return steps }
        return []
    }

    static func sentToClient(_ action: Machine.Action) -> [Packet] {
        steps(action).compactMap { if case .sendToClient(let packet) = $0 { return packet } else { return nil } }
    }

    /// The name of the state, for comparisons.
    static func phase(_ m: Machine) -> String {
        switch m.state {
        case .accepting: "accepting"
        case .awaitingGreeting: "awaitingGreeting"
        case .greetingHeld: "greetingHeld"
        case .loggingIn: "loggingIn"
        case .tlsHandshaking: "tlsHandshaking"
        case .relaying(let relay): relay.refusal == nil ? "relaying" : "relaying, refusal pending"
        case .clientHalfClosed: "clientHalfClosed"
        case .closing(let closing):
            "closing(client \(closing.clientOpen ? "open" : "closed"), backend \(closing.backend))"
        case .closed: "closed"
        case .modifying: "modifying"
        }
    }

    /// A machine whose client has its greeting (backend connected, client identified).
    static func greeted() -> Machine {
        var m = machine()
        _ = m.clientActive()
        _ = m.backendConnected(seenAs: nil)
        _ = m.clientIdentified(client)
        _ = m.backendRead(wire(L.greeting()), rules: rules)
        return m
    }

    /// A machine in the relay after a plaintext login.
    static func relaying() -> Machine {
        var m = greeted()
        _ = m.clientRead(wire(L.response(seq: 1)))
        _ = m.backendRead(wire(Packet(sequenceID: 2, payload: ByteBuffer(bytes: okPayload))), rules: rules)
        return m
    }

    // MARK: - The login states

    @Test func theLoginGoesThroughItsStatesToTheRelay() {
        var m = Self.machine()
        #expect(Self.phase(m) == "accepting")
        #expect(m.clientActive() == .startLogin)
        #expect(Self.phase(m) == "awaitingGreeting")
        #expect(m.backendConnected(seenAs: nil) == .backendReady)
        let greeting = m.backendRead(Self.wire(L.greeting()), rules: Self.rules)
        #expect(Self.steps(greeting) == [.backendReachable(true)])
        #expect(Self.phase(m) == "greetingHeld")
        #expect(Self.sentToClient(m.clientIdentified(Self.client)).map(\.sequenceID) == [0])
        #expect(Self.phase(m) == "loggingIn")
        let forwarded = m.clientRead(Self.wire(L.response(seq: 1)))
        #expect(Self.steps(forwarded).count == 1)
        let ok = m.backendRead(
            Self.wire(Packet(sequenceID: 2, payload: ByteBuffer(bytes: Self.okPayload))),
            rules: Self.rules
        )
        #expect(Self.steps(ok).last == .startRelaying(fromClient: ByteBuffer(), fromBackend: ByteBuffer()))
        #expect(Self.phase(m) == "relaying")
        #expect(m.isRelaying)
        #expect(m.outcome == .relayed)
    }

    @Test func bytesPipelinedBehindTheLoginAreHandedToTheRelay() {
        var m = Self.greeted()
        var read = Self.wire(L.response(seq: 1))
        read.writeBytes(CommandBoundaryTrackerTests.query)
        _ = m.clientRead(read)
        var fromBackend = Self.wire(Packet(sequenceID: 2, payload: ByteBuffer(bytes: Self.okPayload)))
        fromBackend.writeBytes([1, 0, 0, 1, 0xFB])
        let ok = m.backendRead(fromBackend, rules: Self.rules)
        #expect(
            Self.steps(ok).last
                == .startRelaying(
                    fromClient: ByteBuffer(bytes: CommandBoundaryTrackerTests.query),
                    fromBackend: ByteBuffer(bytes: [1, 0, 0, 1, 0xFB])
                )
        )
    }

    @Test func anSSLRequestStartsTLSWithTheBytesBehindIt() {
        var m = Self.machine(tls: true)
        _ = m.clientActive()
        _ = m.backendConnected(seenAs: nil)
        _ = m.clientIdentified(Self.client)
        _ = m.backendRead(Self.wire(L.greeting()), rules: Self.rules)
        var read = Self.wire(L.sslRequest())
        read.writeBytes([0x16, 0x03, 0x01])
        guard case .startTLS(_, let buffered)? = Self.steps(m.clientRead(read)).first else {
            Issue.record("no startTLS")
            return
        }
        #expect(buffered == ByteBuffer(bytes: [0x16, 0x03, 0x01]))
        #expect(Self.phase(m) == "tlsHandshaking")
        _ = m.clientTLSEstablished(L.facts)
        #expect(Self.phase(m) == "loggingIn")
    }

    @Test func tooManyBytesDuringTheLoginAreABadHandshake() {
        var m = Self.machine(bufferLimit: 16)
        _ = m.clientActive()
        let action = m.clientRead(ByteBuffer(bytes: [UInt8](repeating: 0xFF, count: 17)))
        #expect(Self.steps(action).last == .close)
        #expect(m.outcome == .badHandshake(reason: "more than 16 bytes sent during the login"))
        #expect(Self.phase(m) == "closing(client open, backend connecting)")
    }

    // MARK: - Timeouts: who is blamed, and how it is worded

    @Test func aTimeoutWhileConnectingIsTheBackendsAndWordedAsTheConnectTimeout() throws {
        var m = Self.machine()
        _ = m.clientActive()
        let steps = Self.steps(m.loginTimeoutFired())
        #expect(steps.first == .backendReachable(false))
        #expect(!steps.contains { if case .warnAboutBackend = $0 { true } else { false } })
        #expect(steps.last == .close)
        let err = try #require(Self.sentToClient(.login(steps)).first)
        #expect(err.sequenceID == 0)
        #expect(m.outcome == .backendFailed("backend 127.0.0.1:3306: connect timed out after 10s"))
    }

    @Test func aTimeoutBeforeTheGreetingIsTheBackendsWithAWarning() {
        var m = Self.machine()
        _ = m.clientActive()
        _ = m.backendConnected(seenAs: nil)
        let reason = "backend 127.0.0.1:3306: no greeting within connect_timeout (10s)"
        let steps = Self.steps(m.loginTimeoutFired())
        #expect(
            steps.prefix(2) == [
                .backendReachable(false), .warnAboutBackend(message: "the backend sent no greeting", reason: reason),
            ]
        )
        #expect(m.outcome == .backendFailed(reason))
        #expect(Self.phase(m) == "closing(client open, backend open)")
    }

    @Test func aTimeoutWithTheGreetingHeldForTheClientsNameIsTheClients() {
        var m = Self.machine()
        _ = m.clientActive()
        _ = m.backendConnected(seenAs: nil)
        _ = m.backendRead(Self.wire(L.greeting()), rules: Self.rules)
        #expect(m.loginTimeoutFired() == .close(client: .now, backend: .now))
        #expect(m.outcome == .loginTimedOut(seconds: 10))
    }

    @Test func aTimeoutDuringTheLoginIsTheClients() {
        var m = Self.greeted()
        #expect(m.loginTimeoutFired() == .close(client: .now, backend: .now))
        #expect(m.outcome == .loginTimedOut(seconds: 10))
        #expect(m.loginTimeoutFired() == .none)
    }

    @Test func aTimeoutTakenUpAsTheRelayStartsFindsNothingToDo() {
        var m = Self.relaying()
        #expect(m.loginTimeoutFired() == .none)
        #expect(Self.phase(m) == "relaying")
    }

    // MARK: - Half-close and the end

    @Test func clientEOFFirstHalfClosesTheBackendThenTheBackendsEOFEndsTheSession() {
        var m = Self.relaying()
        #expect(m.inputClosed(.client) == .shutdownOutput(.backend))
        #expect(Self.phase(m) == "clientHalfClosed")
        #expect(m.backendRead(ByteBuffer(bytes: [1]), rules: Self.rules) == .forwardToClient(ByteBuffer(bytes: [1])))
        #expect(m.inputClosed(.backend) == .close(client: .afterPendingWrites, backend: .now))
        #expect(m.channelClosed(.backend) == .none)
        #expect(m.channelClosed(.client) == .finish(.relayed))
        #expect(Self.phase(m) == "closed")
    }

    @Test func backendEOFFirstClosesTheClientAfterItsBytesAndIgnoresItsLaterEOF() {
        var m = Self.relaying()
        #expect(m.inputClosed(.backend) == .close(client: .afterPendingWrites, backend: .now))
        #expect(m.inputClosed(.client) == .none)
        #expect(m.clientRead(ByteBuffer(bytes: [1])) == .none)
        #expect(m.channelClosed(.client) == .none)
        #expect(m.channelClosed(.backend) == .finish(.relayed))
        // The backend's close future after its channelInactive: nothing more.
        #expect(m.channelClosed(.backend) == .none)
    }

    @Test func theClientLeavingTheRelayClosesTheBackendAfterItsBytes() {
        var m = Self.relaying()
        #expect(m.channelClosed(.client) == .close(client: .keep, backend: .afterPendingWrites))
        #expect(m.channelClosed(.backend) == .finish(.relayed))
    }

    @Test func theClientLeavingWhileTheBackendConnectsWaitsForTheConnect() {
        var m = Self.machine()
        _ = m.clientActive()
        #expect(m.channelClosed(.client) == .none)
        #expect(m.outcome == .clientDisconnectedDuringLogin)
        #expect(m.backendConnected(seenAs: nil) == .close(client: .keep, backend: .now))
        #expect(m.channelClosed(.backend) == .finish(.clientDisconnectedDuringLogin))
    }

    @Test func aFailedConnectAfterTheClientLeftFinishes() {
        var m = Self.machine()
        _ = m.clientActive()
        _ = m.inputClosed(.client)
        #expect(m.outcome == .clientClosedDuringLogin)
        #expect(m.channelClosed(.client) == .none)
        #expect(m.backendConnectFailed(reason: "backend x: refused") == .finish(.clientClosedDuringLogin))
    }

    @Test func aFailedConnectAnswersTheClient1429AtSequenceZero() throws {
        var m = Self.machine()
        _ = m.clientActive()
        let action = m.backendConnectFailed(reason: "backend x: refused")
        let err = try #require(Self.sentToClient(action).first)
        #expect(err.sequenceID == 0)
        #expect(Self.steps(action).last == .close)
        #expect(Self.phase(m) == "closing(client open, backend closed)")
        #expect(m.channelClosed(.client) == .finish(.backendFailed("backend x: refused")))
    }

    @Test func theBackendLostDuringTheLoginNamesTheProxyHeaderWhenOneWasSent() {
        var m = Self.machine(proxyHeader: true)
        _ = m.clientActive()
        _ = m.backendConnected(seenAs: nil)
        let steps = Self.steps(m.channelClosed(.backend))
        #expect(steps.first == .backendReachable(false))
        #expect(
            m.outcome
                == .backendFailed(
                    "backend 127.0.0.1:3306 closed the connection during login (is the proxy in its proxy_protocol_networks?)"
                )
        )
    }

    @Test func theClientLeavingTheTLSHandshakeIsAFailedHandshake() {
        var m = Self.machine(tls: true)
        _ = m.clientActive()
        _ = m.backendConnected(seenAs: nil)
        _ = m.clientIdentified(Self.client)
        _ = m.backendRead(Self.wire(L.greeting()), rules: Self.rules)
        _ = m.clientRead(Self.wire(L.sslRequest()))
        #expect(m.channelClosed(.client) == .close(client: .keep, backend: .afterPendingWrites))
        #expect(m.outcome == Machine.clientLeftTLSHandshake)
    }

    @Test func aTLSFailureClosesTheBackendAndLeavesTheClientToTheTLSHandler() {
        var m = Self.machine(tls: true)
        _ = m.clientActive()
        _ = m.backendConnected(seenAs: nil)
        _ = m.clientIdentified(Self.client)
        _ = m.backendRead(Self.wire(L.greeting()), rules: Self.rules)
        _ = m.clientRead(Self.wire(L.sslRequest()))
        #expect(m.clientTLSFailed("bad certificate") == .close(client: .keep, backend: .afterPendingWrites))
        #expect(m.outcome == .tlsFailed("bad certificate"))
        #expect(m.channelClosed(.client) == .none)
        #expect(m.channelClosed(.backend) == .finish(.tlsFailed("bad certificate")))
    }

    @Test func aLateNameLookupAfterTheClientLeftIsIgnored() {
        var m = Self.machine()
        _ = m.clientActive()
        _ = m.channelClosed(.client)
        #expect(m.clientIdentified(Self.client) == .none)
    }
}
