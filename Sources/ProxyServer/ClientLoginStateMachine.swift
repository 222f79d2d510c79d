import AccessPolicy
import MariaDBWire
import NIOCore
import ProxyTLS

/// The connection phase of one client, as MariaDB runs it, with the backend behind the proxy.
///
/// Pure: it takes packets and events and returns actions; the NIO glue (`ProxyConnection`) does
/// the I/O. Phases: backend greeting → client's first packet (SSLRequest or HandshakeResponse) →
/// TLS handshake → HandshakeResponse → authentication relayed with the sequence-id mapping →
/// relaying. Credentials reach the backend only after the transport checks passed.
///
/// Public so that the fuzz targets and micro-benchmarks drive it directly, as the connection does.
public struct ClientLoginStateMachine {
    /// What the login depends on besides the packets: fixed for the connection's life.
    public struct Configuration: Sendable {
        /// How the client reached the proxy.
        public var transport: ClientTransport
        /// `require_secure_transport`: a plaintext TCP login is refused (3159) before it is parsed.
        public var requireSecureTransport: Bool
        /// TLS is offered (CLIENT_SSL in the greeting) only when a server context is configured.
        public var tlsAvailable: Bool
        /// `skip_name_resolve`: account hosts match IP addresses only.
        public var skipNameResolve: Bool
        /// `backend_connect_attributes`: add the `_proxy_*` connect attributes to the relayed login.
        public var backendConnectAttributes: Bool
        /// backend_ssl: the login goes to the backend over TLS (ProxyConnection+BackendTLS.swift).
        public var backendTLS: Bool

        public init(
            transport: ClientTransport,
            requireSecureTransport: Bool,
            tlsAvailable: Bool,
            skipNameResolve: Bool = true,
            backendConnectAttributes: Bool = false,
            backendTLS: Bool = false
        ) {
            self.transport = transport
            self.requireSecureTransport = requireSecureTransport
            self.tlsAvailable = tlsAvailable
            self.skipNameResolve = skipNameResolve
            self.backendConnectAttributes = backendConnectAttributes
            self.backendTLS = backendTLS
        }
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

    /// What this login depends on besides the packets.
    public let configuration: Configuration
    var state = State.awaitingBackendGreeting

    /// Capabilities the proxy advertised to the client (the backend's, with SSL added and compression removed).
    var advertisedCapabilities: CapabilityFlags = []
    /// Capabilities from the SSLRequest: MariaDB takes them from there, not from the response inside TLS.
    var sslRequestCapabilities: CapabilityFlags?
    /// The client's TLS session, once its handshake completed (nil: plaintext).
    public internal(set) var tlsFacts: TLSFacts?
    /// For the connection log.
    public internal(set) var username: String?
    /// How the login ended (``ConnectionOutcome/relayed`` once the backend's OK went out).
    public internal(set) var outcome = ConnectionOutcome.incomplete
    /// The backend's id for this connection (its greeting's connection id: `CONNECTION_ID()`,
    /// the `Id` of `SHOW PROCESSLIST`, what `KILL` takes), for the log lines.
    public internal(set) var backendConnectionID: UInt32?
    /// The accounts-file row that decided (for the connection log), e.g. `'alice'@'%' (accounts.sql:3:1)`.
    public internal(set) var matchedAccount: String?
    /// Who the client is for host matching; known before the greeting is sent, as in MariaDB.
    public internal(set) var identity: ClientIdentity?
    /// The backend's greeting, held until the client's identity is known.
    var heldGreeting: Packet?
    /// Capabilities the session runs with after login (for parsing COM_CHANGE_USER).
    var sessionCapabilities: CapabilityFlags = []
    /// The client's character set from its login (for the texts of errors sent to it).
    var sessionCollation: UInt16 = 45
    /// From the HandshakeResponse, for the account check made when the backend accepts the login.
    var usernameIsExact = true
    var usingPassword = false
    /// COM_CHANGE_USER packets refused so far in this session.
    public internal(set) var refusedChangeUsers = 0
    /// The backend greeting's collation id: MariaDB's default character set, which converts the names of
    /// pre-4.1 logins and of COM_CHANGE_USER packets without a character set of their own.
    var serverDefaultCollation: UInt16?
    /// The sequence id the client expects from the next server packet.
    var nextClientSequence: UInt8 = 0
    /// Who the backend takes this connection for when no PROXY header names the client (each way
    /// MariaDB may name the proxy's address); nil when the header is sent.
    var backendView: [ClientIdentity]?
    /// The backend's greeting had CLIENT_SSL (needed with backend_ssl).
    var backendOffersTLS = false
    /// The COM_CHANGE_USER last allowed (its attribute block is rewritten as the login's).
    var forwardedChangeUser: ChangeUserRequest?
    /// What the zero-configuration TLS proof of the login OK needs from the wire.
    var zeroConfigurationProof = ZeroConfigurationProof()
    /// The accounts-file row the last account check matched (its credentials make the proof).
    var matchedRow: AccountRow?

    /// A login about to start: the backend is being connected, the client waits for its greeting.
    public init(configuration: Configuration) {
        self.configuration = configuration
    }

    /// Whether the glue should hand the next framed client packet in now. During authentication
    /// only a reply to the backend's last packet is taken; anything the client pipelines behind
    /// its login stays queued and enters the relay (and its COM_CHANGE_USER check) after the OK,
    /// which is when MariaDB reads it as a command.
    public var wantsClientPacket: Bool {
        switch state {
        case .awaitingFirstClientPacket, .awaitingHandshakeResponse: return true
        case .authenticating: return clientTurn
        default: return false
        }
    }

    /// During authentication: the backend sent an AuthSwitch/AuthMoreData the client must answer.
    var clientTurn = false

    /// The backend accepted the login: from now on bytes are relayed.
    public var isRelaying: Bool { state == .relaying }
    /// The login ended without a session (refused, failed or abandoned); the machine stays silent.
    public var isClosed: Bool { state == .closed }
    /// Between the SSLRequest and the end of the TLS handshake.
    public var isTLSHandshaking: Bool { state == .tlsHandshaking }
    /// The client has its greeting (the backend greeted and the client's identity is known).
    public var greetingSent: Bool { state != .awaitingBackendGreeting }
    /// The backend has not greeted yet (a greeting held for the client's host name does not count):
    /// a login that times out now waited for the backend, not for the client.
    public var awaitingBackendGreeting: Bool { state == .awaitingBackendGreeting && heldGreeting == nil }

    /// The client's address as MariaDB would see it (resolved off the event loop when
    /// skip_name_resolve is OFF). The greeting goes out only once this is known.
    public mutating func clientIdentified(_ identity: ClientIdentity) -> [Action] {
        guard self.identity == nil else { return [] }
        self.identity = identity
        if let greeting = heldGreeting {
            heldGreeting = nil
            return backendGreetingReceived(greeting)
        }
        return []
    }

    // MARK: - Events

    /// The backend connection is up. `seenAs`: the identities the backend may match accounts
    /// against for it (the proxy's address), or nil when a PROXY header gives it the client's.
    public mutating func backendConnected(seenAs: [ClientIdentity]?) {
        backendView = seenAs
    }

    mutating func backendGreetingReceived(_ packet: Packet) -> [Action] {
        guard state == .awaitingBackendGreeting else { return [] }
        guard identity != nil else {
            heldGreeting = packet
            return []
        }
        if packet.payload.readableBytes > 0,
            packet.payload.getInteger(at: packet.payload.readerIndex, as: UInt8.self) == 0xFF
        {
            // The backend refused us before greeting (1040, 1129, 1130…): pass its words on unchanged.
            let err = try? ERRPacket.decode(packet.payload)
            return close(
                outcome: .backendRefusedConnection(code: err?.code, message: err?.message ?? ""),
                sending: [.sendToClient(packet)]
            )
        }
        let greeting: InitialHandshake
        do {
            greeting = try InitialHandshake.decode(packet.payload)
        } catch {
            return preGreetingFailure("backend sent a malformed greeting (\(error))")
        }
        backendConnectionID = greeting.connectionID
        zeroConfigurationProof.greetingScramble = Array(greeting.authPluginData.prefix(20))
        var capabilities = greeting.capabilities
        // Compression would hide COM_CHANGE_USER from the proxy: not offered (see docs/architecture.md).
        // Nor is COM_MULTI (10.2–10.5 backends), whose packed commands the proxy does not check.
        capabilities.remove([.compress, .zstdCompression, .mariaDBComMulti])
        serverDefaultCollation = UInt16(greeting.characterSet)
        backendOffersTLS = greeting.capabilities.contains(.ssl)
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

    /// A framed packet from the client (hand it in only while ``wantsClientPacket``).
    public mutating func clientPacketReceived(_ packet: Packet) -> [Action] {
        switch state {
        case .awaitingFirstClientPacket:
            return firstClientPacket(packet)
        case .awaitingHandshakeResponse:
            return handshakeResponse(packet, clientOffset: 1)
        case .authenticating(let mapper):
            // An auth reply must carry the sequence id the backend's packet asked for; MariaDB
            // answers anything else with 1156 and closes.
            guard packet.sequenceID == nextClientSequence else {
                let err = MariaDBError.packetsOutOfOrder()
                return close(
                    outcome: .packetsOutOfOrder,
                    sending: [.sendToClient(Packet(sequenceID: nextClientSequence, payload: err.encode()))]
                )
            }
            clientTurn = false
            zeroConfigurationProof.noteClientAnswer(packet.payload)
            return [
                .sendToBackend(
                    Packet(sequenceID: mapper.backendSequence(forClient: packet.sequenceID), payload: packet.payload)
                )
            ]
        default:
            return []
        }
    }

    /// The client's TLS handshake completed; the HandshakeResponse comes next, inside TLS.
    public mutating func tlsEstablished(_ facts: TLSFacts) -> [Action] {
        guard state == .tlsHandshaking else { return [] }
        tlsFacts = facts
        state = .awaitingHandshakeResponse
        return []
    }

    /// A packet from the backend. `rules` are the accounts current now: they decide, when the
    /// backend accepts the login, whether MariaDB would have refused it.
    public mutating func backendPacketReceived(_ packet: Packet, rules: AccountRules) -> [Action] {
        if state == .awaitingBackendGreeting {
            return backendGreetingReceived(packet)
        }
        guard case .authenticating(let mapper) = state else { return [] }
        let forwarded = Packet(
            sequenceID: mapper.clientSequence(forBackend: packet.sequenceID),
            payload: packet.payload
        )
        nextClientSequence = forwarded.sequenceID &+ 1
        switch try? AuthServerPacket.classify(packet.payload) {
        case .ok:
            if case .deny(let reason) = checkAccount(user: username ?? "", exact: usernameIsExact, rules: rules) {
                // MariaDB runs acl_check_ssl only after the authentication plugin accepted the
                // credentials (sql/sql_acl.cc, acl_authenticate), so a wrong password is answered
                // as a wrong password whatever the account requires. The backend's OK becomes the
                // 1045 MariaDB sends, and the backend session it opened is ended at once.
                let err = MariaDBError.accessDenied(
                    user: username ?? "",
                    host: identity?.displayHost ?? "",
                    usingPassword: usingPassword
                )
                return close(
                    outcome: .accessDenied(reason: reason),
                    sending: [
                        .sendToClient(
                            Packet(sequenceID: forwarded.sequenceID, payload: err.encode(collation: sessionCollation))
                        ),
                        .sendToBackend(Packet(sequenceID: 0, payload: ByteBuffer(bytes: [CommandByte.quit]))),
                    ]
                )
            }
            outcome = .relayed
            state = .relaying
            let ok = zeroConfigurationProof.loginOK(
                packet.payload,
                capabilities: sessionCapabilities,
                tls: tlsFacts,
                account: matchedRow
            )
            return [.sendToClient(Packet(sequenceID: forwarded.sequenceID, payload: ok)), .startRelaying]
        case .error(let err):
            return close(
                outcome: .refusedByBackend(code: err.code, message: err.message),
                sending: [.sendToClient(forwarded)]
            )
        case let other:
            // AuthSwitchRequest, AuthMoreData, or something we do not know: the client answers it.
            zeroConfigurationProof.observe(other)
            clientTurn = true
            return [.sendToClient(forwarded)]
        }
    }

    /// Why the last COM_CHANGE_USER was refused (for the log).
    public internal(set) var lastChangeUserRefusal: String?

    /// What the accounts file would have refused under `policy_mode = AUDIT`, for the glue to log
    /// and count (``takeAuditedRefusal()``).
    var auditedRefusal: String?
}
