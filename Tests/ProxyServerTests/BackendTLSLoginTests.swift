import MariaDBWire
import NIOCore
import ProxyTLS
import Testing

@testable import ProxyServer

/// backend_ssl in the login machine: the proxy's SSLRequest to the backend carries the negotiated
/// capabilities with CLIENT_SSL, the response follows it at seq 2, the backend leg stays one packet
/// ahead for the rest of the login, and a backend without TLS is refused before any credential
/// reaches it.
@Suite struct BackendTLSLoginTests {
    typealias Machine = ClientLoginStateMachine
    typealias T = ClientLoginStateMachineTests

    func machine(backendTLS: Bool = true) -> Machine {
        var m = Machine(
            configuration: .init(
                transport: .tcp,
                requireSecureTransport: false,
                tlsAvailable: true,
                backendTLS: backendTLS
            )
        )
        _ = m.clientIdentified(.tcp(ip: "127.0.0.1", resolvedHost: nil))
        return m
    }

    static func greeting(offersTLS: Bool) -> Packet {
        let greeting = InitialHandshake(
            serverVersion: "5.5.5-10.11.19-MariaDB",
            connectionID: 7,
            authPluginData: Array(1...20),
            capabilities: offersTLS ? T.backendCapabilities.union(.ssl) : T.backendCapabilities,
            characterSet: 45,
            statusFlags: 2,
            authPluginName: "mysql_native_password"
        )
        return Packet(sequenceID: 0, payload: greeting.encode())
    }

    func toBackend(_ actions: [Machine.Action]) -> [Packet] {
        actions.compactMap { if case .sendToBackend(let p) = $0 { return p } else { return nil } }
    }

    func toClient(_ actions: [Machine.Action]) -> [Packet] {
        actions.compactMap { if case .sendToClient(let p) = $0 { return p } else { return nil } }
    }

    @Test func plaintextClientLoginGoesOverTheProxysSSLRequest() throws {
        var m = machine()
        _ = m.backendGreetingReceived(Self.greeting(offersTLS: true))
        let actions = m.clientPacketReceived(T.response(seq: 1))
        guard case .startBackendTLS(let request) = try #require(actions.first) else {
            Issue.record("expected startBackendTLS first, got \(actions)")
            return
        }
        #expect(request.sequenceID == 1)
        #expect(request.payload.readableBytes == SSLRequest.length)
        let decoded = try SSLRequest.decode(request.payload)
        #expect(decoded.capabilities.contains(.ssl))
        #expect(!decoded.capabilities.contains(.compress))
        // The session's capabilities: the client's ∩ the backend's, plus CLIENT_SSL.
        #expect(decoded.capabilities == T.clientCapabilities.intersection(T.backendCapabilities).union(.ssl))
        #expect(decoded.characterSet == 45)
        let response = try #require(toBackend(actions).first)
        #expect(response.sequenceID == 2)
        let forwarded = try HandshakeResponse.decode(
            response.payload,
            clientCapabilities: nil,
            serverCapabilities: T.backendCapabilities.union(.ssl)
        )
        #expect(forwarded.username == "app")
        #expect(forwarded.capabilities.contains(.ssl))

        // Backend seq 3 (an AuthSwitchRequest) is the client's seq 2; the client's reply 3 is the backend's 4.
        var authSwitch = ByteBuffer(bytes: [0xFE])
        authSwitch.writeBytes(Array("mysql_native_password".utf8) + [0] + Array(repeating: 1, count: 20) + [0])
        let switched = m.backendPacketReceived(Packet(sequenceID: 3, payload: authSwitch), rules: .init())
        #expect(toClient(switched).first?.sequenceID == 2)
        let reply = m.clientPacketReceived(
            Packet(sequenceID: 3, payload: ByteBuffer(bytes: Array(repeating: 2, count: 20)))
        )
        #expect(toBackend(reply).first?.sequenceID == 4)
        let ok = m.backendPacketReceived(
            Packet(sequenceID: 5, payload: ByteBuffer(bytes: [0, 0, 0, 2, 0, 0, 0])),
            rules: .init()
        )
        #expect(toClient(ok).first?.sequenceID == 4)
        #expect(m.isRelaying)
    }

    @Test func tlsClientAndTLSBackendKeepTheSameSequenceIDs() throws {
        var m = machine()
        _ = m.backendGreetingReceived(Self.greeting(offersTLS: true))
        _ = m.clientPacketReceived(T.sslRequest())
        _ = m.tlsEstablished(T.facts)
        let actions = m.clientPacketReceived(T.response(caps: T.clientCapabilities.union(.ssl), seq: 2))
        guard case .startBackendTLS(let request) = try #require(actions.first) else {
            Issue.record("expected startBackendTLS")
            return
        }
        #expect(request.sequenceID == 1)
        #expect(toBackend(actions).first?.sequenceID == 2)
        // Both legs had one SSLRequest: the backend's OK at 3 is the client's 3.
        let ok = m.backendPacketReceived(
            Packet(sequenceID: 3, payload: ByteBuffer(bytes: [0, 0, 0, 2, 0, 0, 0])),
            rules: .init()
        )
        #expect(toClient(ok).first?.sequenceID == 3)
    }

    @Test func backendWithoutTLSIsRefusedWithoutForwardingTheLogin() throws {
        var m = machine()
        _ = m.backendGreetingReceived(Self.greeting(offersTLS: false))
        let actions = m.clientPacketReceived(T.response(seq: 1))
        #expect(toBackend(actions).isEmpty)
        #expect(!actions.contains { if case .startBackendTLS = $0 { return true } else { return false } })
        let err = try ERRPacket.decode(try #require(toClient(actions).first).payload)
        #expect(err.code == 1429)
        #expect(err.sqlState == "HY000")
        #expect(err.message.contains("does not offer TLS"))
        #expect(toClient(actions).first?.sequenceID == 2)
        #expect(actions.last == .close)
    }

    @Test func withoutBackendTLSTheLoginIsForwardedAsBefore() throws {
        var m = machine(backendTLS: false)
        _ = m.backendGreetingReceived(Self.greeting(offersTLS: true))
        let actions = m.clientPacketReceived(T.response(seq: 1))
        #expect(actions.count == 1)
        #expect(toBackend(actions).first?.sequenceID == 1)
    }
}
