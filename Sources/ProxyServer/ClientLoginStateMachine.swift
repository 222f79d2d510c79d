import AccessPolicy
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
        var skipNameResolve = true
        /// `backend_connect_attributes`: add the `_proxy_*` connect attributes to the relayed login.
        var backendConnectAttributes = false
        /// backend_ssl: the login goes to the backend over TLS (ProxyConnection+BackendTLS.swift).
        var backendTLS = false
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
    private(set) var outcome = ConnectionOutcome.incomplete
    /// The backend's id for this connection (its greeting's connection id: `CONNECTION_ID()`,
    /// the `Id` of `SHOW PROCESSLIST`, what `KILL` takes), for the log lines.
    private(set) var backendConnectionID: UInt32?
    /// The accounts-file row that decided (for the connection log), e.g. `'alice'@'%' (accounts.sql:3:1)`.
    private(set) var matchedAccount: String?
    /// Who the client is for host matching; known before the greeting is sent, as in MariaDB.
    private(set) var identity: ClientIdentity?
    /// The backend's greeting, held until the client's identity is known.
    private var heldGreeting: Packet?
    /// Capabilities the session runs with after login (for parsing COM_CHANGE_USER).
    private(set) var sessionCapabilities: CapabilityFlags = []
    /// The client's character set from its login (for the texts of errors sent to it).
    private var sessionCollation: UInt16 = 45
    /// From the HandshakeResponse, for the account check made when the backend accepts the login.
    private var usernameIsExact = true
    private var usingPassword = false
    /// COM_CHANGE_USER packets refused so far in this session.
    private(set) var refusedChangeUsers = 0
    /// The backend greeting's collation id: MariaDB's default character set, which converts the names of
    /// pre-4.1 logins and of COM_CHANGE_USER packets without a character set of their own.
    private var serverDefaultCollation: UInt16?
    /// The sequence id the client expects from the next server packet.
    private var nextClientSequence: UInt8 = 0
    /// Who the backend takes this connection for when no PROXY header names the client (each way
    /// MariaDB may name the proxy's address); nil when the header is sent.
    private var backendView: [ClientIdentity]?
    /// The backend's greeting had CLIENT_SSL (needed with backend_ssl).
    private var backendOffersTLS = false
    /// The COM_CHANGE_USER last allowed (its attribute block is rewritten as the login's).
    var forwardedChangeUser: ChangeUserRequest?
    /// What the zero-configuration TLS proof of the login OK needs from the wire.
    private var zeroConfigurationProof = ZeroConfigurationProof()
    /// The accounts-file row the last account check matched (its credentials make the proof).
    private var matchedRow: AccountRow?

    init(configuration: Configuration) {
        self.configuration = configuration
    }

    /// Whether the glue should hand the next framed client packet in now. During authentication
    /// only a reply to the backend's last packet is taken; anything the client pipelines behind
    /// its login stays queued and enters the relay (and its COM_CHANGE_USER check) after the OK,
    /// which is when MariaDB reads it as a command.
    var wantsClientPacket: Bool {
        switch state {
        case .awaitingFirstClientPacket, .awaitingHandshakeResponse: return true
        case .authenticating: return clientTurn
        default: return false
        }
    }

    /// During authentication: the backend sent an AuthSwitch/AuthMoreData the client must answer.
    private var clientTurn = false

    var isRelaying: Bool { state == .relaying }
    /// Between the SSLRequest and the end of the TLS handshake.
    var isTLSHandshaking: Bool { state == .tlsHandshaking }
    var greetingSent: Bool { state != .awaitingBackendGreeting }
    /// The backend has not greeted yet (a greeting held for the client's host name does not count):
    /// a login that times out now waited for the backend, not for the client.
    var awaitingBackendGreeting: Bool { state == .awaitingBackendGreeting && heldGreeting == nil }

    /// The client's address as MariaDB would see it (resolved off the event loop when
    /// skip_name_resolve is OFF). The greeting goes out only once this is known.
    mutating func clientIdentified(_ identity: ClientIdentity) -> [Action] {
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
    mutating func backendConnected(seenAs: [ClientIdentity]?) {
        backendView = seenAs
    }

    mutating func backendGreetingReceived(_ packet: Packet) -> [Action] {
        guard state == .awaitingBackendGreeting else { return [] }
        guard identity != nil else {
            heldGreeting = packet
            return []
        }
        if packet.payload.readableBytes > 0, packet.payload.getInteger(at: packet.payload.readerIndex, as: UInt8.self) == 0xFF {
            // The backend refused us before greeting (1040, 1129, 1130…): pass its words on unchanged.
            let err = try? ERRPacket.decode(packet.payload)
            return close(outcome: .backendRefusedConnection(code: err?.code, message: err?.message ?? ""), sending: [.sendToClient(packet)])
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

    mutating func clientPacketReceived(_ packet: Packet) -> [Action] {
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
                    sending: [.sendToClient(Packet(sequenceID: nextClientSequence, payload: err.encode()))])
            }
            clientTurn = false
            zeroConfigurationProof.noteClientAnswer(packet.payload)
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

    /// A packet from the backend. `rules` are the accounts current now: they decide, when the
    /// backend accepts the login, whether MariaDB would have refused it.
    mutating func backendPacketReceived(_ packet: Packet, rules: AccountRules) -> [Action] {
        if state == .awaitingBackendGreeting {
            return backendGreetingReceived(packet)
        }
        guard case .authenticating(let mapper) = state else { return [] }
        let forwarded = Packet(sequenceID: mapper.clientSequence(forBackend: packet.sequenceID), payload: packet.payload)
        nextClientSequence = forwarded.sequenceID &+ 1
        switch try? AuthServerPacket.classify(packet.payload) {
        case .ok:
            if case .deny(let reason) = checkAccount(user: username ?? "", exact: usernameIsExact, rules: rules) {
                // MariaDB runs acl_check_ssl only after the authentication plugin accepted the
                // credentials (sql/sql_acl.cc, acl_authenticate), so a wrong password is answered
                // as a wrong password whatever the account requires. The backend's OK becomes the
                // 1045 MariaDB sends, and the backend session it opened is ended at once.
                let err = MariaDBError.accessDenied(user: username ?? "", host: identity?.displayHost ?? "", usingPassword: usingPassword)
                return close(outcome: .accessDenied(reason: reason), sending: [
                    .sendToClient(Packet(sequenceID: forwarded.sequenceID, payload: err.encode(collation: sessionCollation))),
                    .sendToBackend(Packet(sequenceID: 0, payload: ByteBuffer(bytes: [CommandByte.quit]))),
                ])
            }
            outcome = .relayed
            state = .relaying
            let ok = zeroConfigurationProof.loginOK(packet.payload, capabilities: sessionCapabilities, tls: tlsFacts, account: matchedRow)
            return [.sendToClient(Packet(sequenceID: forwarded.sequenceID, payload: ok)), .startRelaying]
        case .error(let err):
            return close(outcome: .refusedByBackend(code: err.code, message: err.message), sending: [.sendToClient(forwarded)])
        case let other:
            // AuthSwitchRequest, AuthMoreData, or something we do not know: the client answers it.
            zeroConfigurationProof.observe(other)
            clientTurn = true
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
            return close(outcome: .backendFailed(reason), sending: [.sendToClient(Packet(sequenceID: nextClientSequence, payload: err.encode()))])
        case .tlsHandshaking:
            return close(outcome: .backendFailed(reason), sending: [])
        case .relaying, .closed:
            return []
        }
    }

    /// The client broke the protocol (framing error, oversized packet): MariaDB's 1043.
    mutating func clientProtocolError(_ reason: String) -> [Action] {
        // The answer follows the client packet that broke the rules.
        switch state {
        case .awaitingBackendGreeting, .awaitingFirstClientPacket, .tlsHandshaking:
            return badHandshake(reason, sequenceID: 2)
        case .awaitingHandshakeResponse:
            return badHandshake(reason, sequenceID: 3)
        case .authenticating:
            return badHandshake(reason, sequenceID: nextClientSequence &+ 1)
        case .relaying, .closed:
            return []
        }
    }

    /// Something else ended the connection (timeout, client gone): record why.
    mutating func abandon(outcome: ConnectionOutcome) {
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
                return badHandshake("client requested TLS but ssl is OFF", sequenceID: 2)
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
                outcome: .insecureTransport,
                sending: [.sendToClient(Packet(sequenceID: 2, payload: err.encode()))]
            )
        }
        return handshakeResponse(packet, clientOffset: 0)
    }

    /// `clientOffset`: 1 when the client sent an SSLRequest first, else 0.
    private mutating func handshakeResponse(_ packet: Packet, clientOffset: UInt8) -> [Action] {
        let expected: UInt8 = clientOffset == 0 ? 1 : 2
        guard packet.sequenceID == expected else {
            return badHandshake("HandshakeResponse has sequence id \(packet.sequenceID), expected \(expected)", sequenceID: expected &+ 1)
        }
        let response: HandshakeResponse
        do {
            response = try HandshakeResponse.decode(
                packet.payload,
                clientCapabilities: sslRequestCapabilities,
                serverCapabilities: advertisedCapabilities,
                serverDefaultCollation: serverDefaultCollation
            )
        } catch {
            return badHandshake("malformed HandshakeResponse (\(error))", sequenceID: expected &+ 1)
        }
        if let refused = response.refusedCharacterSet {
            // MariaDB cannot run a session in this character set: ER_WRONG_VALUE_FOR_VAR, login over.
            let err = MariaDBError.wrongValueForVariable("character_set_client", value: refused)
            return close(outcome: .characterSetRefused(refused),
                         sending: [.sendToClient(Packet(sequenceID: expected &+ 1, payload: err.encode()))])
        }
        username = response.username
        usernameIsExact = response.usernameIsExact
        usingPassword = !response.authResponse.isEmpty
        sessionCollation = UInt16(response.characterSet)
        // The account check waits for the backend's verdict on the credentials (backendPacketReceived).
        // The backend never sees the SSLRequest: it gets the fields just parsed, in the layout MariaDB read them
        // with, and exactly the capabilities negotiated here (never TLS or compression, which it must not switch on).
        var negotiated = (sslRequestCapabilities ?? response.capabilities).intersection(advertisedCapabilities)
        negotiated.remove([.ssl, .compress, .zstdCompression, .sslVerifyServerCert])
        sessionCapabilities = negotiated
        zeroConfigurationProof.clientPlugin = negotiated.contains(.pluginAuth) ? response.authPluginName : nil
        zeroConfigurationProof.noteLoginResponse(response.authResponse)
        var relayed = response
        relayed.connectAttributesBlock = backendAttributesBlock(response, negotiated: negotiated)
        nextClientSequence = expected &+ 1
        if configuration.backendTLS {
            return backendTLSLogin(relayed, negotiated: negotiated, clientOffset: clientOffset)
        }
        let payload = relayed.forwardedPayload(capabilities: negotiated)
        state = .authenticating(SequenceMapper(offset: clientOffset))
        return [.sendToBackend(Packet(sequenceID: 1, payload: payload))]
    }

    /// backend_ssl: the proxy's own SSLRequest (seq 1, the negotiated capabilities with CLIENT_SSL:
    /// MariaDB takes the session's capabilities from it), then the response at seq 2 over TLS. The
    /// backend leg is one packet ahead from there on. A backend that does not offer TLS is refused,
    /// never used in plaintext: the credentials stay with the proxy.
    private mutating func backendTLSLogin(_ response: HandshakeResponse, negotiated: CapabilityFlags, clientOffset: UInt8) -> [Action] {
        guard backendOffersTLS, response.isProtocol41 else {
            let reason = backendOffersTLS
                ? "backend_ssl needs a protocol 4.1 client" : "backend_ssl is ON but the backend does not offer TLS"
            let err = MariaDBError.backendUnavailable(reason)
            return close(outcome: .backendFailed(reason),
                         sending: [.sendToClient(Packet(sequenceID: nextClientSequence, payload: err.encode()))])
        }
        let capabilities = negotiated.union(.ssl)
        let sslRequest = SSLRequest(capabilities: capabilities, maxPacketSize: response.maxPacketSize, characterSet: response.characterSet)
        state = .authenticating(SequenceMapper(offset: clientOffset &- 1))
        return [
            .startBackendTLS(sslRequest: Packet(sequenceID: 1, payload: sslRequest.encode())),
            .sendToBackend(Packet(sequenceID: 2, payload: response.forwardedPayload(capabilities: capabilities))),
        ]
    }

    /// COM_CHANGE_USER in the relayed session: MariaDB re-runs the account's REQUIRE check against
    /// this connection's TLS facts (but not require_secure_transport, the transport is already up).
    mutating func changeUserRequested(_ payload: ByteBuffer, rules: AccountRules) -> ChangeUserDecision {
        guard refusedChangeUsers < Self.maxRefusedChangeUsers else {
            refusedChangeUsers += 1
            lastChangeUserRefusal = "more than \(Self.maxRefusedChangeUsers) refused COM_CHANGE_USER in this session"
            return .refuseAndClose(Packet(sequenceID: 1, payload: MariaDBError.unknownCommand().encode(collation: sessionCollation)))
        }
        let request: ChangeUserRequest
        do {
            request = try ChangeUserRequest.decode(payload, capabilities: sessionCapabilities, serverDefaultCollation: serverDefaultCollation)
        } catch {
            // What we cannot read must not reach the backend unchecked; MariaDB answers a change
            // request it cannot parse with ER_UNKNOWN_COM_ERROR (parse_com_change_user_packet).
            refusedChangeUsers += 1
            lastChangeUserRefusal = "malformed COM_CHANGE_USER (\(error))"
            return .refuse(Packet(sequenceID: 1, payload: MariaDBError.unknownCommand().encode(collation: sessionCollation)))
        }
        if let refused = request.refusedCharacterSet {
            // A failed change for MariaDB too (thd_init_client_charset in acl_authenticate): it counts.
            refusedChangeUsers += 1
            lastChangeUserRefusal = "character set \(refused)"
            let err = MariaDBError.wrongValueForVariable("character_set_client", value: refused)
            return .refuse(Packet(sequenceID: 1, payload: err.encode()))
        }
        switch checkAccount(user: request.username, exact: request.usernameIsExact, rules: rules) {
        case .allow:
            username = request.username
            forwardedChangeUser = request
            return .forward
        case .deny(let reason):
            refusedChangeUsers += 1
            lastChangeUserRefusal = reason
            let err = MariaDBError.accessDenied(
                user: request.username, host: identity?.displayHost ?? "", usingPassword: !request.authResponse.isEmpty)
            return .refuse(Packet(sequenceID: 1, payload: err.encode(collation: request.characterSet ?? sessionCollation)))
        }
    }

    /// Why the last COM_CHANGE_USER was refused (for the log).
    private(set) var lastChangeUserRefusal: String?

    /// What the accounts file would have refused under `policy_mode = AUDIT`, for the glue to log
    /// and count (``takeAuditedRefusal()``).
    private var auditedRefusal: String?

    /// The reason of a refusal AUDIT let through since the last call, if any.
    mutating func takeAuditedRefusal() -> String? {
        defer { auditedRefusal = nil }
        return auditedRefusal
    }

    /// The accounts file's verdict; under AUDIT a refusal is recorded and the login allowed.
    private mutating func checkAccount(user: String, exact: Bool, rules: AccountRules) -> PolicyDecision {
        let decision = evaluateAccount(user: user, exact: exact, rules: rules)
        guard rules.auditOnly, case .deny(let reason) = decision else { return decision }
        auditedRefusal = reason
        // The backend may have checked another row (or nothing the file vouches for): never
        // prove a credential for a login the accounts file refused.
        matchedRow = nil
        return .allow
    }

    /// The proxy-side account check (MariaDB's acl_check_ssl on the row MariaDB would pick).
    private mutating func evaluateAccount(user: String, exact: Bool, rules: AccountRules) -> PolicyDecision {
        matchedRow = nil
        guard let policy = rules.policy, let identity else { return .allow }
        guard exact else {
            // Without MariaDB's exact conversion we could match a different account: fail closed.
            matchedAccount = nil
            return .deny(reason: "user name has non-ASCII bytes in a character set the proxy cannot convert")
        }
        switch policy.match(user: user, client: identity, skipNameResolve: configuration.skipNameResolve) {
        case .notMentioned:
            matchedAccount = nil
            return rules.strictAccounts
                ? .deny(reason: "strict_accounts: user '\(user)' is not in the accounts file") : .allow
        case .noMatchingRow:
            matchedAccount = nil
            return .deny(reason: "no account row for user '\(user)' matches host '\(identity.displayHost)'")
        case .matched(let row):
            matchedAccount = "\(row.account) (\(row.definedAt))"
            matchedRow = row
            let decision = row.requirement.evaluate(ConnectionSecurity(tlsFacts))
            guard case .allow = decision else { return decision }
            return sameRowAtTheBackend(user: user, row: row, policy: policy)
        }
    }

    /// Without a PROXY header the backend authenticates the row for the proxy's address: that
    /// row's password opens the session and its privileges apply. Unless the accounts file shows
    /// the backend picks the very row MariaDB would pick for the client, the proxy cannot tell
    /// whose credentials were checked, and refuses.
    private func sameRowAtTheBackend(user: String, row: AccountRow, policy: AccessPolicy) -> PolicyDecision {
        guard let views = backendView else { return .allow }
        for view in views {
            let match = policy.match(user: user, client: view, skipNameResolve: configuration.skipNameResolve)
            guard case .matched(let backendRow) = match, backendRow.account == row.account else {
                let picked: String
                if case .matched(let other) = match { picked = "\(other.account) (\(other.definedAt))" } else { picked = "no row" }
                return .deny(reason: "the backend takes the proxy's address (\(view.displayHost)) for the client, which gives \(picked), not \(row.account): that row's password and privileges would apply; set backend_proxy_protocol")
            }
        }
        return .allow
    }

    private mutating func badHandshake(_ reason: String, sequenceID: UInt8) -> [Action] {
        let err = MariaDBError.badHandshake()
        return close(outcome: .badHandshake(reason: reason), sending: [.sendToClient(Packet(sequenceID: sequenceID, payload: err.encode()))])
    }

    private mutating func preGreetingFailure(_ reason: String) -> [Action] {
        // Before the greeting the client has no capabilities yet: no SQLSTATE marker, seq 0.
        let err = MariaDBError.backendUnavailable(reason)
        return close(outcome: .backendFailed(reason), sending: [.sendToClient(Packet(sequenceID: 0, payload: err.encode(includeSQLState: false)))])
    }

    private mutating func close(outcome: ConnectionOutcome, sending actions: [Action]) -> [Action] {
        self.outcome = outcome
        state = .closed
        return actions + [.close]
    }
}

extension ConnectionSecurity {
    /// The policy's view of this connection's TLS (nil = plaintext).
    init(_ facts: TLSFacts?) {
        guard let facts else {
            self = .plaintext
            return
        }
        self.init(
            isTLS: true,
            cipher: facts.cipher,
            peerCertificatePresented: facts.hasPeerCertificate,
            verifyResultIsOK: facts.verifyResult == 0,
            peerSubject: facts.peerSubject,
            peerIssuer: facts.peerIssuer
        )
    }
}
