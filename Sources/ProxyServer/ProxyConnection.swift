import AccessPolicy
import Logging
import MariaDBWire
import NIOCore
import NIOPosix
import ProxyConfiguration
import ProxyTLS

/// One client and its backend connection, both on the same event loop: runs the login state
/// machine, then relays bytes both ways with backpressure and half-close.
///
/// The two channel handlers call into this object; it is confined to the client's event loop.
/// The relay's client → backend half is in ProxyConnection+ClientRelay.swift, connecting the
/// backend in ProxyConnection+Backend.swift, log lines and metrics in
/// ProxyConnection+Observability.swift (hence the members without `private` that they use).
final class ProxyConnection {
    let clientChannel: Channel
    let environment: ConnectionEnvironment
    var machine: ClientLoginStateMachine
    var logger: Logger

    var clientContext: ChannelHandlerContext?
    var backendContext: ChannelHandlerContext?
    private weak var clientHandler: ClientChannelHandler?
    weak var backendHandler: BackendChannelHandler?
    var backendChannel: Channel?
    var backendConnecting = false
    /// Kept from channelActive: a closed channel no longer reports it, and the log line may come later.
    var clientAddress: SocketAddress?

    private var clientFramer = PacketFramer()
    private var backendFramer = PacketFramer()
    /// Relay phase: holds back COM_CHANGE_USER in the client's stream for the policy check.
    var changeUserInterceptor = ChangeUserInterceptor()
    private var loginTimeout: Scheduled<Void>?
    var closing = false
    var clientClosed = false
    var backendClosed = false
    var clientInputEnded = false
    private var backendInputEnded = false
    private var finished = false

    let startedAt = NIODeadline.now()
    var bytesFromClient = 0
    var bytesToClient = 0
    /// The part of the byte counts already added to the metrics.
    var bytesCounted = (fromClient: 0, toClient: 0)
    var tlsFacts: TLSFacts?
    var tlsStartedAt: NIODeadline?
    /// When the backend's login OK was relayed.
    var establishedAt: NIODeadline?
    /// Whether the backend answered (greeting or ERR) or failed before it did; counted once.
    var backendReachable: Bool?
    /// A refused COM_CHANGE_USER whose answer waits out MariaDB's one-second pause; the client's
    /// stream behind it waits too (in the interceptor, and in `heldClientBytes` for later reads).
    var refusalPending: Scheduled<Void>?
    var heldClientBytes: ByteBuffer?
    var loggedUnknownCommand = false
    var loggedAllowedChangeUser = false

    /// MariaDB sleeps one second after a failed COM_CHANGE_USER before it answers (sql/sql_parse.cc,
    /// dispatch_command), which bounds password guessing through one session.
    static let refusedChangeUserDelay = TimeAmount.seconds(1)

    /// Bytes a client may have buffered during the login before it is a protocol error
    /// (a HandshakeResponse with connection attributes is at most ~64 KiB).
    private static let loginBufferLimit = 1 << 20

    init(clientChannel: Channel, environment: ConnectionEnvironment) {
        self.clientChannel = clientChannel
        self.environment = environment
        self.machine = ClientLoginStateMachine(configuration: .init(
            transport: environment.transport,
            requireSecureTransport: environment.settings.requireSecureTransport,
            tlsAvailable: environment.tlsContext != nil,
            skipNameResolve: environment.settings.skipNameResolve,
            backendConnectAttributes: environment.settings.backendConnectAttributes,
            backendTLS: environment.backendTLSContext != nil
        ))
        var logger = environment.logger
        logger[metadataKey: "conn"] = "\(environment.id)"
        self.logger = logger
    }

    /// Adds the client-side handler to the (new) client channel.
    func install() throws {
        let handler = ClientChannelHandler(connection: self)
        clientHandler = handler
        try clientChannel.pipeline.syncOperations.addHandler(handler)
    }

    /// In the relay, client bytes are read only while both sides can take what they cause: the
    /// backend its commands, the client the answers the proxy writes itself (refused changes of
    /// user never reach the backend, so the backend's writability alone would not bound them).
    var mayReadFromClient: Bool {
        guard machine.isRelaying else { return true }
        return refusalPending == nil && clientChannel.isWritable && (backendChannel?.isWritable ?? true)
    }

    var mayReadFromBackend: Bool {
        !machine.isRelaying || clientChannel.isWritable
    }

    // MARK: - Client side

    func clientActive() {
        clientAddress = clientChannel.remoteAddress
        let timeout = TimeAmount.seconds(Int64(environment.settings.connectTimeoutSeconds))
        loginTimeout = clientChannel.eventLoop.assumeIsolated().scheduleTask(in: timeout) { [self] in
            loginTimedOut()
        }
        identifyClient()
        connectBackend()
    }

    /// MariaDB resolves the client's host before it sends the greeting; so do we (off the event
    /// loop, and only when skip_name_resolve is OFF).
    private func identifyClient() {
        let transport = environment.transport
        let address = clientAddress
        guard transport == .tcp, !environment.settings.skipNameResolve, let ip = ClientAddress.normalizedIP(address) else {
            perform(machine.clientIdentified(ClientAddress.identity(transport: transport, address: address, resolvedHost: nil)))
            return
        }
        let loopBound = NIOLoopBound(self, eventLoop: clientChannel.eventLoop)
        environment.nameResolverPool.runIfActive(eventLoop: clientChannel.eventLoop) {
            ClientAddress.resolveHostName(ip: ip)
        }.whenComplete { result in
            let connection = loopBound.value
            let name = (try? result.get()) ?? nil
            connection.perform(connection.machine.clientIdentified(
                ClientAddress.identity(transport: transport, address: address, resolvedHost: name)))
            connection.processClientPackets()
        }
    }

    func clientRead(_ buffer: ByteBuffer) {
        bytesFromClient += buffer.readableBytes
        if machine.isRelaying {
            if !closing { relayFromClient(buffer) }
            return
        }
        guard !closing else { return }
        clientFramer.append(buffer)
        if clientFramer.bufferedByteCount > Self.loginBufferLimit {
            perform(machine.clientProtocolError("more than \(Self.loginBufferLimit) bytes sent during the login"))
            return
        }
        processClientPackets()
    }

    func clientReadComplete() {
        if machine.isRelaying {
            backendChannel?.flush()
            countBytesIfMany()
        }
    }

    func clientTLSEstablished(_ facts: TLSFacts) {
        tlsFacts = facts
        recordTLSHandshake()
        perform(machine.tlsEstablished(facts))
        processClientPackets()
    }

    func clientInputClosed() {
        clientInputEnded = true
        // Behind a refused COM_CHANGE_USER the client's bytes wait for its answer; the EOF follows them.
        if machine.isRelaying && refusalPending != nil { return }
        if machine.isRelaying, let backend = backendChannel {
            if backendInputEnded {
                closeEverything()
            } else {
                // Half-close: the backend still sees its pending bytes, then EOF.
                backend.writeAndFlush(ByteBuffer()).whenComplete { _ in backend.close(mode: .output, promise: nil) }
            }
        } else if !closing {
            machine.abandon(outcome: machine.isTLSHandshaking ? Self.clientLeftTLSHandshake : .clientClosedDuringLogin)
            closeEverything()
        }
    }

    func clientError(_ error: Error) {
        if let tlsError = error as? TLSServerError {
            machine.abandon(outcome: .tlsFailed("\(tlsError)"))
            logger.debug("client TLS error", metadata: ["error": "\(tlsError)"])
        } else {
            logger.debug("client channel error", metadata: ["error": "\(error)"])
        }
    }

    /// A client that rejects the certificate often closes before its alert is read; it counts
    /// as a failed handshake (logged under log_connections = REFUSED), not as a client that left.
    static let clientLeftTLSHandshake = ConnectionOutcome.tlsFailed("\(TLSServerError.handshakeFailed("the client closed the connection during the TLS handshake"))")

    func clientInactive() {
        clientClosed = true
        clientContext = nil
        machine.abandon(outcome: machine.isTLSHandshaking ? Self.clientLeftTLSHandshake : .clientDisconnectedDuringLogin)
        if let backend = backendChannel, !backendClosed {
            closeAfterPendingWrites(backend)
        }
        finishIfDone()
    }

    func clientWritabilityChanged(isWritable: Bool) {
        guard isWritable else { return }
        if let context = backendContext { backendHandler?.resumeReading(context: context) }
        resumeClientReads()
    }

    func resumeClientReads() {
        if mayReadFromClient, let context = clientContext { clientHandler?.resumeReading(context: context) }
    }

    // MARK: - Backend side

    func backendRead(_ buffer: ByteBuffer) {
        if machine.isRelaying {
            bytesToClient += buffer.readableBytes
            clientChannel.write(buffer, promise: nil)
            return
        }
        guard !closing else { return }
        backendFramer.append(buffer)
        while !closing && !machine.isRelaying {
            do {
                guard let packet = try backendFramer.nextPacket() else { break }
                recordBackendReachability(true)
                perform(machine.backendPacketReceived(packet, rules: environment.currentRules()))
            } catch {
                perform(machine.backendFailed("backend \(environment.settings.backend) sent a malformed packet (\(error))"))
            }
        }
        processClientPackets()
    }

    func backendReadComplete() {
        if machine.isRelaying {
            clientChannel.flush()
            countBytesIfMany()
        }
    }

    func backendInputClosed() {
        backendInputEnded = true
        if machine.isRelaying {
            // A MariaDB server never half-closes: its EOF ends the session. The client gets what
            // was already sent, then the close (close_notify over TLS), and its slot is freed.
            closeAfterPendingWrites(clientChannel)
            backendChannel?.close(promise: nil)
        } else {
            backendLostDuringLogin()
        }
    }

    func backendError(_ error: Error) {
        if let tlsError = error as? TLSClientError {
            backendTLSFailed(tlsError)
            return
        }
        logger.debug("backend channel error", metadata: ["error": "\(error)"])
    }

    func backendChannelClosed() {
        backendClosed = true
        backendContext = nil
        finishIfDone()
    }

    func backendInactive() {
        backendClosed = true
        backendContext = nil
        if !machine.isRelaying {
            backendLostDuringLogin()
        } else if !clientClosed {
            closeAfterPendingWrites(clientChannel)
        }
        finishIfDone()
    }

    func backendWritabilityChanged(isWritable: Bool) {
        if isWritable { resumeClientReads() }
    }

    private func backendLostDuringLogin() {
        guard !closing else { return }
        if machine.awaitingBackendGreeting { recordBackendReachability(false) }
        // A backend not trusting the PROXY header sends 1130 and a reset that loses it: name the cause.
        let hint = environment.settings.backendProxyProtocol == .off ? "" : " (is the proxy in its proxy_protocol_networks?)"
        perform(machine.backendFailed("backend \(environment.settings.backend) closed the connection during login\(hint)"))
    }

    // MARK: - Actions

    func processClientPackets() {
        while machine.wantsClientPacket && !closing {
            do {
                guard let packet = try clientFramer.nextPacket() else { return }
                perform(machine.clientPacketReceived(packet))
            } catch {
                perform(machine.clientProtocolError("\(error)"))
            }
        }
    }

    func perform(_ actions: [ClientLoginStateMachine.Action]) {
        for action in actions {
            switch action {
            case .sendToClient(let packet):
                bytesToClient += 4 + packet.payload.readableBytes
                clientChannel.writeAndFlush(encodePacket(sequenceID: packet.sequenceID, payload: packet.payload), promise: nil)
            case .sendToBackend(let packet):
                backendChannel?.writeAndFlush(encodePacket(sequenceID: packet.sequenceID, payload: packet.payload), promise: nil)
            case .startTLS(let failurePacket):
                startTLS(failurePacket: failurePacket)
            case .startBackendTLS(let sslRequest):
                startBackendTLS(sslRequest: sslRequest)
            case .startRelaying:
                startRelaying()
            case .close:
                closing = true
                loginTimeout?.cancel()
                closeAfterPendingWrites(clientChannel)
                if let backend = backendChannel { closeAfterPendingWrites(backend) }
            }
        }
    }

    private func startTLS(failurePacket: Packet) {
        guard let tlsContext = environment.tlsContext else { return }
        let leftover = clientFramer.takeRemainingBytes()
        let handler = TLSServerHandler(
            context: tlsContext,
            initialCiphertext: leftover,
            plaintextAfterHandshakeFailure: encodePacket(sequenceID: failurePacket.sequenceID, payload: failurePacket.payload),
            // The handler holds a max_handshakes slot from the complete ClientHello to the end of the handshake.
            admission: environment.handshakeGate
        )
        tlsStartedAt = .now()
        do {
            try clientChannel.pipeline.syncOperations.addHandler(handler, position: .first)
        } catch {
            machine.abandon(outcome: .tlsNotStarted("\(error)"))
            closeEverything()
        }
    }

    private func startRelaying() {
        loginTimeout?.cancel()
        loginTimeout = nil
        let fromClient = clientFramer.takeRemainingBytes()
        if fromClient.readableBytes > 0 {
            relayFromClient(fromClient)
            backendChannel?.flush()
        }
        let fromBackend = backendFramer.takeRemainingBytes()
        if fromBackend.readableBytes > 0 {
            bytesToClient += fromBackend.readableBytes
            clientChannel.writeAndFlush(fromBackend, promise: nil)
        }
        sessionEstablished()
        reportAuditedRefusal(at: "login")
    }

    private func loginTimedOut() {
        guard !machine.isRelaying, !finished else { return }
        let seconds = environment.settings.connectTimeoutSeconds
        if machine.awaitingBackendGreeting, !clientClosed {
            recordBackendReachability(false)
            // The client waited for the backend: blame it (1429), as for a backend that cannot be reached.
            if backendChannel == nil {
                // Worded as the connect attempt's own timeout, which logs it when it fires.
                let reason = BackendErrorDescription.describe(ChannelError.connectTimeout(.seconds(Int64(seconds))), timeoutSeconds: seconds)
                perform(machine.backendFailed("backend \(environment.settings.backend): \(reason)"))
            } else {
                let reason = "backend \(environment.settings.backend): no greeting within connect_timeout (\(seconds)s)"
                logger.warning("the backend sent no greeting", metadata: ["backend": "\(environment.settings.backend)", "error": "\(reason)"])
                perform(machine.backendFailed(reason))
            }
            return
        }
        machine.abandon(outcome: .loginTimedOut(seconds: seconds))
        closeEverything()
    }

    /// Closes both channels now, dropping anything unsent.
    func closeEverything() {
        closing = true
        loginTimeout?.cancel()
        refusalPending?.cancel()
        clientChannel.close(promise: nil)
        backendChannel?.close(promise: nil)
    }

    /// Closes `channel` once every byte already written to it has gone out (an empty write
    /// completes in order after them), with a deadline so a peer that never reads cannot pin it.
    func closeAfterPendingWrites(_ channel: Channel) {
        let deadline = channel.eventLoop.scheduleTask(in: .seconds(10)) { channel.close(promise: nil) }
        channel.writeAndFlush(ByteBuffer()).whenComplete { _ in
            deadline.cancel()
            channel.close(promise: nil)
        }
    }

    func finishIfDone() {
        guard !finished, clientClosed, backendClosed || (backendChannel == nil && !backendConnecting) else { return }
        finished = true
        loginTimeout?.cancel()
        refusalPending?.cancel()
        clientHandler = nil
        backendHandler = nil
        clientContext = nil
        backendContext = nil
        connectionEnded()
    }
}

@available(*, unavailable)
extension ProxyConnection: Sendable {}
