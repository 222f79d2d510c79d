import MariaDBWire
import NIOCore
import ProxyTLS

/// How the client reached the proxy. The unix socket counts as a secure transport for
/// `require_secure_transport` (as in MariaDB), but not as TLS.
public enum ClientTransport: Sendable, Equatable {
    case tcp
    case unixSocket

    var logName: String { self == .tcp ? "tcp" : "socket" }
}

/// The connection phase of one client, as MariaDB runs it, with the backend behind the proxy.
///
/// Pure: it takes packets and events and returns actions; the NIO glue (`ProxyConnection`) does
/// the I/O. Phases: backend greeting → client's first packet (SSLRequest or HandshakeResponse) →
/// TLS handshake → HandshakeResponse → authentication relayed with the sequence-id mapping →
/// relaying. Credentials reach the backend only after the transport checks passed.
struct ClientLoginStateMachine {
    struct Configuration {
        var transport: ClientTransport
        var requireSecureTransport: Bool
        /// TLS is offered (CLIENT_SSL in the greeting) only when a server context is configured.
        var tlsAvailable: Bool
    }

    enum Action: Equatable {
        case sendToClient(Packet)
        case sendToBackend(Packet)
        /// Insert the TLS handler; if the handshake fails, send `failurePacket` in plaintext (1043).
        case startTLS(failurePacket: Packet)
        /// Login finished with the backend's OK: switch to the byte relay.
        case startRelaying
        /// Send nothing more; close both sides once what was sent has been written.
        case close
    }

    enum State: Equatable {
        case awaitingBackendGreeting
        case awaitingFirstClientPacket
        case tlsHandshaking
        case awaitingHandshakeResponse
        case authenticating(SequenceMapper)
        case relaying
        case closed
    }

    let configuration: Configuration
    private(set) var state = State.awaitingBackendGreeting

    /// Capabilities the proxy advertised to the client (the backend's, with SSL added and compression removed).
    private(set) var advertisedCapabilities: CapabilityFlags = []
    /// Capabilities from the SSLRequest: MariaDB takes them from there, not from the response inside TLS.
    private(set) var sslRequestCapabilities: CapabilityFlags?
    private(set) var tlsFacts: TLSFacts?
    /// For the connection log.
    private(set) var username: String?
    private(set) var outcome = "incomplete"
    /// The sequence id the client expects from the next server packet.
    private var nextClientSequence: UInt8 = 0

    init(configuration: Configuration) {
        self.configuration = configuration
    }

    /// Whether the glue should hand the next framed client packet in now.
    var wantsClientPacket: Bool {
        switch state {
        case .awaitingFirstClientPacket, .awaitingHandshakeResponse, .authenticating: return true
        default: return false
        }
    }

    var isRelaying: Bool { state == .relaying }
    var greetingSent: Bool { state != .awaitingBackendGreeting }

    // MARK: - Events

    mutating func backendGreetingReceived(_ packet: Packet) -> [Action] {
        guard state == .awaitingBackendGreeting else { return [] }
        if packet.payload.readableBytes > 0, packet.payload.getInteger(at: packet.payload.readerIndex, as: UInt8.self) == 0xFF {
            // The backend refused us before greeting (1040, 1129, 1130…): pass its words on unchanged.
            let reason = (try? ERRPacket.decode(packet.payload)).map { "backend refused: \($0.code) \($0.message)" } ?? "backend refused"
            return close(outcome: reason, sending: [.sendToClient(packet)])
        }
        let greeting: InitialHandshake
        do {
            greeting = try InitialHandshake.decode(packet.payload)
        } catch {
            return preGreetingFailure("backend sent a malformed greeting (\(error))")
        }
        var capabilities = greeting.capabilities
        // Compression would hide COM_CHANGE_USER from the proxy: not offered (see docs/architecture.md).
        capabilities.remove([.compress, .zstdCompression])
        if configuration.tlsAvailable {
            capabilities.insert(.ssl)
        } else {
            capabilities.remove(.ssl)
        }
        advertisedCapabilities = capabilities
        state = .awaitingFirstClientPacket
        nextClientSequence = 1
        return [.sendToClient(Packet(sequenceID: 0, payload: greeting.payload(withCapabilities: capabilities)))]
    }

    mutating func clientPacketReceived(_ packet: Packet) -> [Action] {
        switch state {
        case .awaitingFirstClientPacket:
            return firstClientPacket(packet)
        case .awaitingHandshakeResponse:
            return handshakeResponse(packet, mapper: SequenceMapper(offset: 1))
        case .authenticating(let mapper):
            nextClientSequence = packet.sequenceID &+ 1
            return [.sendToBackend(Packet(sequenceID: mapper.backendSequence(forClient: packet.sequenceID), payload: packet.payload))]
        default:
            return []
        }
    }

    mutating func tlsEstablished(_ facts: TLSFacts) -> [Action] {
        guard state == .tlsHandshaking else { return [] }
        tlsFacts = facts
        state = .awaitingHandshakeResponse
        return []
    }

    mutating func backendPacketReceived(_ packet: Packet) -> [Action] {
        if state == .awaitingBackendGreeting {
            return backendGreetingReceived(packet)
        }
        guard case .authenticating(let mapper) = state else { return [] }
        let forwarded = Packet(sequenceID: mapper.clientSequence(forBackend: packet.sequenceID), payload: packet.payload)
        nextClientSequence = forwarded.sequenceID &+ 1
        switch try? AuthServerPacket.classify(packet.payload) {
        case .ok:
            outcome = "relayed"
            state = .relaying
            return [.sendToClient(forwarded), .startRelaying]
        case .error(let err):
            return close(outcome: "refused by backend: \(err.code) \(err.message)", sending: [.sendToClient(forwarded)])
        default:
            // AuthSwitchRequest, AuthMoreData, or something we do not know: the client decides.
            return [.sendToClient(forwarded)]
        }
    }

    /// The backend could not be reached, or it failed before the login finished.
    mutating func backendFailed(_ reason: String) -> [Action] {
        switch state {
        case .awaitingBackendGreeting:
            return preGreetingFailure(reason)
        case .awaitingFirstClientPacket, .awaitingHandshakeResponse, .authenticating:
            let err = MariaDBError.backendUnavailable(reason)
            return close(outcome: "backend failed: \(reason)", sending: [.sendToClient(Packet(sequenceID: nextClientSequence, payload: err.encode()))])
        case .tlsHandshaking:
            return close(outcome: "backend failed: \(reason)", sending: [])
        case .relaying, .closed:
            return []
        }
    }

    /// The client broke the protocol (framing error, oversized packet): MariaDB's 1043.
    mutating func clientProtocolError(_ reason: String) -> [Action] {
        guard state != .closed, state != .relaying else { return [] }
        return badHandshake(reason, sequenceID: nextClientSequence)
    }

    /// Something else ended the connection (timeout, client gone): record why.
    mutating func abandon(outcome: String) {
        if state != .relaying && state != .closed {
            self.outcome = outcome
            state = .closed
        }
    }

    // MARK: - Steps

    private mutating func firstClientPacket(_ packet: Packet) -> [Action] {
        guard packet.sequenceID == 1 else {
            return badHandshake("first client packet has sequence id \(packet.sequenceID), expected 1", sequenceID: 2)
        }
        if ClientFirstPacket.requestsTLS(packet.payload) {
            guard configuration.tlsAvailable else {
                // MariaDB without TLS masks CLIENT_SSL away and then fails to parse the 32-byte packet.
                return badHandshake("client requested TLS but no ssl_cert is configured", sequenceID: 2)
            }
            do {
                sslRequestCapabilities = try SSLRequest.decode(packet.payload).capabilities
            } catch {
                return badHandshake("malformed SSLRequest (\(error))", sequenceID: 2)
            }
            state = .tlsHandshaking
            nextClientSequence = 2
            let failure = Packet(sequenceID: 2, payload: MariaDBError.badHandshake().encode())
            return [.startTLS(failurePacket: failure)]
        }
        if configuration.requireSecureTransport && configuration.transport == .tcp {
            // Checked before the user name is even parsed; the credentials go nowhere.
            let err = MariaDBError.insecureTransport()
            return close(
                outcome: "refused: 3159 insecure transport",
                sending: [.sendToClient(Packet(sequenceID: 2, payload: err.encode()))]
            )
        }
        return handshakeResponse(packet, mapper: SequenceMapper(offset: 0))
    }

    private mutating func handshakeResponse(_ packet: Packet, mapper: SequenceMapper) -> [Action] {
        let expected: UInt8 = mapper.offset == 0 ? 1 : 2
        guard packet.sequenceID == expected else {
            return badHandshake("HandshakeResponse has sequence id \(packet.sequenceID), expected \(expected)", sequenceID: expected &+ 1)
        }
        let response: HandshakeResponse
        do {
            response = try HandshakeResponse.decode(
                packet.payload,
                clientCapabilities: sslRequestCapabilities,
                serverCapabilities: advertisedCapabilities
            )
        } catch {
            return badHandshake("malformed HandshakeResponse (\(error))", sequenceID: expected &+ 1)
        }
        username = response.username
        // The backend has no TLS and must not switch on compression the proxy cannot see.
        var forwardedCapabilities = sslRequestCapabilities ?? response.capabilities
        forwardedCapabilities.remove([.ssl, .compress, .zstdCompression, .sslVerifyServerCert])
        let payload = HandshakeResponse.rewriteCapabilities(of: packet.payload, to: forwardedCapabilities)
        state = .authenticating(mapper)
        nextClientSequence = expected &+ 1
        return [.sendToBackend(Packet(sequenceID: 1, payload: payload))]
    }

    private mutating func badHandshake(_ reason: String, sequenceID: UInt8) -> [Action] {
        let err = MariaDBError.badHandshake()
        return close(outcome: "refused: 1043 bad handshake: \(reason)", sending: [.sendToClient(Packet(sequenceID: sequenceID, payload: err.encode()))])
    }

    private mutating func preGreetingFailure(_ reason: String) -> [Action] {
        // Before the greeting the client has no capabilities yet: no SQLSTATE marker, seq 0.
        let err = MariaDBError.backendUnavailable(reason)
        return close(outcome: "backend failed: \(reason)", sending: [.sendToClient(Packet(sequenceID: 0, payload: err.encode(includeSQLState: false)))])
    }

    private mutating func close(outcome: String, sending actions: [Action]) -> [Action] {
        self.outcome = outcome
        state = .closed
        return actions + [.close]
    }
}
