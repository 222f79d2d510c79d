import AccessPolicy
import MariaDBWire
import NIOCore
import ProxyTLS

/// The two channels of one proxied connection.
enum ConnectionSide: Sendable, Equatable {
    case client
    case backend

    /// The other channel: where this side's bytes go in the relay.
    var partner: ConnectionSide { self == .client ? .backend : .client }
}

/// The life of one proxied connection, from the client's accept to the moment both channels are
/// closed, as a pure state machine (in the manner of swift-nio's HTTP upgrade state machines): each
/// state carries its own data, each event returns one ``Action`` for `ProxyConnection` to carry out,
/// and an event that cannot happen in a state is a `preconditionFailure`.
///
/// The connection phase itself (greeting, TLS, HandshakeResponse, authentication) is the
/// ``ClientLoginStateMachine``'s; this machine frames the packets for it, runs it, and follows its
/// phases. The states (docs/architecture.md, "One connection", draws them):
///
/// - `accepting`: the client channel is not active yet.
/// - `awaitingGreeting`: the backend is being connected, or has not greeted (a timeout now is the backend's fault).
/// - `greetingHeld`: the backend greeted; the greeting waits for the client's host name.
/// - `loggingIn`: the client has its greeting: its login packets and the backend's answers are exchanged.
/// - `tlsHandshaking`: between the client's SSLRequest and the end of the TLS handshake.
/// - `relaying`: the backend's login OK was relayed; bytes flow both ways (a refused COM_CHANGE_USER pauses the client's).
/// - `clientHalfClosed`: the client's EOF was passed on to the backend; the backend's answers still flow.
/// - `closing`: the channels are being closed; it records which are still open.
/// - `closed`: both channels are closed and the connection has been accounted for.
struct ProxyConnectionStateMachine {
    /// What the machine needs to know of the settings.
    struct Configuration: Sendable {
        /// The backend as log lines and errors name it (`host:port` or the socket path).
        var backendName: String
        /// `connect_timeout`: the login (backend connect included) must finish within it.
        var connectTimeoutSeconds: Int
        /// `backend_proxy_protocol` is on (a backend closing during the login may distrust the header).
        var sendsProxyHeader = false
        /// Bytes a client may have buffered during the login before it is a protocol error
        /// (a HandshakeResponse with connection attributes is at most ~64 KiB).
        var loginBufferLimit = 1 << 20
    }

    /// The backend channel as this machine knows it.
    enum BackendLeg: Sendable, Equatable {
        case connecting
        case open
        case closed
    }

    /// The data of the login states: the backend leg and the two packet framers.
    struct LoginData {
        var backend: BackendLeg
        var clientFramer = PacketFramer()
        var backendFramer = PacketFramer()
    }

    /// A refused COM_CHANGE_USER waits out MariaDB's one-second pause; the client's stream behind it waits too.
    struct RefusalPause {
        /// The answer the client gets when the pause ends.
        var answer: Packet
        /// The session ends after the answer (the refusal after the last one allowed).
        var thenClose: Bool
        /// Client bytes read while the stream waits, in order.
        var heldBytes = ByteBuffer()
        /// The client's EOF came during the pause: it goes on behind the held bytes.
        var clientInputEnded = false
    }

    /// The data of `relaying`.
    struct RelayData {
        var refusal: RefusalPause?
    }

    /// The data of `closing`: which channels are still open.
    struct ClosingData: Equatable {
        var clientOpen: Bool
        var backend: BackendLeg
    }

    enum State {
        case accepting
        case awaitingGreeting(LoginData)
        case greetingHeld(LoginData)
        case loggingIn(LoginData)
        case tlsHandshaking(LoginData)
        case relaying(RelayData)
        case clientHalfClosed
        case closing(ClosingData)
        case closed
        /// Only while an event is being handled (keeps the state's buffers uniquely referenced).
        case modifying
    }

    /// How to close one channel.
    enum ChannelClose: Sendable, Equatable {
        /// Leave it as it is.
        case keep
        /// Once everything already written to it has gone out (with a deadline).
        case afterPendingWrites
        /// At once, dropping anything unsent.
        case now
    }

    /// A step of the login for the connection to carry out, in order.
    enum LoginStep: Equatable {
        case sendToClient(Packet)
        case sendToBackend(Packet)
        /// Put the TLS handler in front of the client's pipeline, handing it the bytes read past the
        /// SSLRequest; if the handshake fails it sends `failurePacket` in plaintext.
        case startTLS(failurePacket: Packet, bufferedBytes: ByteBuffer)
        /// backend_ssl: send this SSLRequest to the backend, then start TLS with it.
        case startBackendTLS(sslRequest: Packet)
        /// The backend's login OK went out: cancel the login timeout and relay these leftovers.
        case startRelaying(fromClient: ByteBuffer, fromBackend: ByteBuffer)
        /// For `mariadb_tls_proxy_backend_up`: the backend answered (or failed before it did).
        case backendReachable(Bool)
        /// Log a warning about the backend (`message`, with the backend and `reason`).
        case warnAboutBackend(message: String, reason: String)
        /// The login is over without a session: cancel the login timeout, close both channels
        /// once what was sent has been written.
        case close
    }

    /// What the connection does after an event.
    enum Action: Equatable {
        case none
        /// The client is connected: arm the login timeout, identify the client, connect the backend.
        case startLogin
        /// The login's steps, in order.
        case login([LoginStep])
        /// Client bytes in the relay: through the COM_CHANGE_USER interceptor to the backend.
        case relayFromClient(ByteBuffer)
        /// Backend bytes in the relay: to the client as they are.
        case forwardToClient(ByteBuffer)
        /// A read batch ended: flush what it caused on that side.
        case flush(ConnectionSide)
        /// The other side's EOF: shut this side's output once its pending bytes have gone out.
        case shutdownOutput(ConnectionSide)
        /// The backend is connected: send the PROXY header if configured.
        case backendReady
        case close(client: ChannelClose, backend: ChannelClose)
        /// Replay a read held back by backpressure on these sides.
        case resumeReading(client: Bool, backend: Bool)
        /// The COM_CHANGE_USER pause is over: answer the client, then close or go on.
        case answerRefusal(Packet, then: AfterRefusal)
        /// Both channels are closed: the metrics and the `connection closed` line, with this outcome.
        case finish(ConnectionOutcome)
    }

    /// What follows the answer to a refused COM_CHANGE_USER.
    enum AfterRefusal: Equatable {
        /// The session ends: close both channels once the answer has gone out.
        case close
        /// Relay what the client sent meanwhile; then pass its EOF on if it came, else resume reads.
        case resume(heldBytes: ByteBuffer, clientInputEnded: Bool)
    }

    /// A client that rejects the certificate often closes before its alert is read; it counts
    /// as a failed handshake (logged under log_connections = REFUSED), not as a client that left.
    static let clientLeftTLSHandshake = ConnectionOutcome.tlsFailed(
        "\(TLSError.handshakeFailed("the client closed the connection during the TLS handshake"))"
    )

    let configuration: Configuration
    // The stored state is set only by the machine's own methods (here and in its extensions' files).
    var state = State.accepting
    /// The connection phase; after it, the COM_CHANGE_USER checks and what the log lines name.
    var login: ClientLoginStateMachine
    /// The channels' writability, for backpressure in the relay.
    var clientWritable = true
    var backendWritable = true

    init(configuration: Configuration, login: ClientLoginStateMachine) {
        self.configuration = configuration
        self.login = login
    }

    /// How the connection ended (or would end now).
    var outcome: ConnectionOutcome { login.outcome }

    /// Whether the relay is running (bytes flow without parsing, reads follow the other side's writability).
    var isRelaying: Bool {
        switch state {
        case .relaying, .clientHalfClosed: return true
        default: return false
        }
    }

    /// Whether a read may be issued on `side` now. In the relay, client bytes are read only while
    /// both sides can take what they cause: the backend its commands, the client the answers the
    /// proxy writes itself (refused changes of user never reach the backend); backend bytes only
    /// while the client can take them. During the login and when closing, reads are not held.
    func mayRead(from side: ConnectionSide) -> Bool {
        switch (state, side) {
        case (.relaying(let relay), .client):
            return relay.refusal == nil && clientWritable && backendWritable
        case (.relaying, .backend), (.clientHalfClosed, .backend):
            return clientWritable
        default:
            return true
        }
    }

    // MARK: - Client channel

    mutating func clientActive() -> Action {
        guard case .accepting = state else { preconditionFailure("client active twice: \(state)") }
        state = .awaitingGreeting(LoginData(backend: .connecting))
        return .startLogin
    }

    /// The client's identity for host matching is known (at once, or after a name lookup).
    mutating func clientIdentified(_ identity: ClientIdentity) -> Action {
        let action = runLogin { machine, data, steps in
            Self.append(machine.login.clientIdentified(identity), data: &data, to: &steps)
            machine.processClientPackets(data: &data, steps: &steps)
        }
        if let action { return action }
        switch state {
        case .closing, .closed: return .none
        default: preconditionFailure("client identified in \(state)")
        }
    }

    mutating func clientRead(_ buffer: ByteBuffer) -> Action {
        switch state {
        case .relaying(var relay):
            guard relay.refusal != nil else { return .relayFromClient(buffer) }
            // A read already under way when the refusal paused the stream: keep it, in order.
            state = .modifying
            var incoming = buffer
            relay.refusal!.heldBytes.writeBuffer(&incoming)
            state = .relaying(relay)
            return .none
        case .clientHalfClosed, .closing, .closed:
            return .none
        default:
            break
        }
        let action = runLogin { machine, data, steps in
            data.clientFramer.append(buffer)
            let limit = machine.configuration.loginBufferLimit
            if data.clientFramer.bufferedByteCount > limit {
                Self.append(
                    machine.login.clientProtocolError("more than \(limit) bytes sent during the login"),
                    data: &data,
                    to: &steps
                )
                return
            }
            machine.processClientPackets(data: &data, steps: &steps)
        }
        guard let action else { preconditionFailure("client read in \(state)") }
        return action
    }

    func readComplete(_ side: ConnectionSide) -> Action {
        isRelaying ? .flush(side.partner) : .none
    }

    mutating func clientTLSEstablished(_ facts: TLSFacts) -> Action {
        runLogin { machine, data, steps in
            Self.append(machine.login.tlsEstablished(facts), data: &data, to: &steps)
            machine.processClientPackets(data: &data, steps: &steps)
        } ?? .none
    }

    /// The client's TLS failed (the TLS handler sends the alert and the ERR, then closes the client).
    mutating func clientTLSFailed(_ description: String) -> Action {
        guard let data = loginData else { return .none }
        login.abandon(outcome: .tlsFailed(description))
        state = .closing(ClosingData(clientOpen: true, backend: data.backend))
        return .close(client: .keep, backend: data.backend == .open ? .afterPendingWrites : .keep)
    }

    /// The TLS handler could not be added to the client's pipeline.
    mutating func tlsNotStarted(_ description: String) -> Action {
        guard let data = loginData else { return .none }
        login.abandon(outcome: .tlsNotStarted(description))
        return closeNow(backend: data.backend)
    }

    // MARK: - The session's checks (the login machine's, after the login)

    /// A COM_CHANGE_USER in the relay, checked against the accounts current now.
    mutating func changeUserRequested(
        _ payload: ByteBuffer,
        rules: ClientLoginStateMachine.AccountRules
    ) -> ClientLoginStateMachine.ChangeUserDecision {
        login.changeUserRequested(payload, rules: rules)
    }

    /// The allowed COM_CHANGE_USER's payload as the backend gets it (nil: as it came).
    mutating func backendChangeUserPayload(_ payload: ByteBuffer) -> ByteBuffer? {
        login.backendChangeUserPayload(payload)
    }

    /// A refusal `policy_mode = AUDIT` let through since the last call, if any.
    mutating func takeAuditedRefusal() -> String? {
        login.takeAuditedRefusal()
    }
}
