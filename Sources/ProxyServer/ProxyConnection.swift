import AccessPolicy
import Logging
import MariaDBWire
import NIOCore
import ProxyTLS

/// One client and its backend connection, both on the same event loop. It owns the channels, the
/// timers and the relay's COM_CHANGE_USER filter, hands every event of the two ``RelayHandler``s to
/// its ``ProxyConnectionStateMachine`` and carries out the actions that come back; the decisions
/// (what the login answers, who is blamed for a timeout, when to half-close, when to stop reading,
/// how it ended) are the machine's.
///
/// Carrying out the login's steps is in ProxyConnection+Login.swift, the relay's client → backend
/// half in ProxyConnection+ClientRelay.swift, connecting the backend in ProxyConnection+Backend.swift,
/// log lines and metrics in ProxyConnection+Observability.swift (hence the members without `private`).
final class ProxyConnection {
    let clientChannel: Channel
    let environment: ConnectionEnvironment
    var machine: ProxyConnectionStateMachine
    var logger: Logger
    let backendConnector: BackendConnector

    /// The pair of handlers, until both channels are closed (then released, breaking the cycle).
    var handlers: (client: RelayHandler, backend: RelayHandler)?
    var backendChannel: Channel?
    /// Kept from channelActive: a closed channel no longer reports it, and the log line may come later.
    var clientAddress: SocketAddress?
    /// Relay phase: holds back COM_CHANGE_USER in the client's stream for the policy check.
    var changeUserInterceptor = ChangeUserInterceptor()
    /// connect_timeout, armed at accept, cancelled at the backend's login OK.
    var loginTimeout: Scheduled<Void>?
    /// The end of MariaDB's pause after a refused COM_CHANGE_USER.
    var refusalTimer: Scheduled<Void>?
    var statistics = ConnectionStatistics()

    init(clientChannel: Channel, environment: ConnectionEnvironment, backendConnector: BackendConnector = .bootstrap) {
        self.clientChannel = clientChannel
        self.environment = environment
        self.backendConnector = backendConnector
        let settings = environment.settings
        self.machine = ProxyConnectionStateMachine(
            configuration: .init(
                backendName: "\(settings.backend)",
                connectTimeoutSeconds: settings.connectTimeoutSeconds,
                sendsProxyHeader: settings.backendProxyProtocol != .off
            ),
            login: ClientLoginStateMachine(
                configuration: .init(
                    transport: environment.transport,
                    requireSecureTransport: settings.requireSecureTransport,
                    tlsAvailable: environment.tlsContext != nil,
                    skipNameResolve: settings.skipNameResolve,
                    backendConnectAttributes: settings.backendConnectAttributes,
                    backendTLS: environment.backendTLSContext != nil
                )
            )
        )
        var logger = environment.logger
        logger[metadataKey: "conn"] = "\(environment.id)"
        self.logger = logger
    }

    /// Adds the client's handler of the pair to the (new) client channel.
    func install() throws {
        let pair = RelayHandler.matchedPair(connection: self)
        handlers = pair
        try clientChannel.pipeline.syncOperations.addHandler(pair.client)
    }

    func handler(_ side: ConnectionSide) -> RelayHandler? {
        side == .client ? handlers?.client : handlers?.backend
    }

    // MARK: - Events from the handlers

    func clientActive() {
        clientAddress = clientChannel.remoteAddress
        perform(machine.clientActive())
    }

    func read(_ buffer: ByteBuffer, from side: ConnectionSide) {
        switch side {
        case .client:
            statistics.bytesFromClient += buffer.readableBytes
            perform(machine.clientRead(buffer))
        case .backend:
            perform(machine.backendRead(buffer, rules: environment.currentRules))
        }
    }

    func readComplete(_ side: ConnectionSide) {
        perform(machine.readComplete(side))
    }

    func clientTLSEstablished(_ facts: TLSFacts) {
        recordTLSHandshake()
        perform(machine.clientTLSEstablished(facts))
    }

    func inputClosed(_ side: ConnectionSide) {
        perform(machine.inputClosed(side))
    }

    func channelError(_ error: Error, on side: ConnectionSide) {
        // Each side's pipeline has its own TLS handler, so the side says whose TLS failed.
        if let tlsError = error as? TLSError, side == .client {
            logger.debug("client TLS error", metadata: ["error": "\(tlsError)"])
            perform(machine.clientTLSFailed("\(tlsError)"))
        } else if let tlsError = error as? TLSError {
            logger.debug("backend TLS error", metadata: ["error": "\(tlsError)"])
            perform(machine.backendTLSFailed("\(tlsError)"))
        } else {
            logger.debug("\(side == .client ? "client" : "backend") channel error", metadata: ["error": "\(error)"])
        }
    }

    func channelClosed(_ side: ConnectionSide) {
        perform(machine.channelClosed(side))
    }

    func mayRead(from side: ConnectionSide) -> Bool {
        machine.mayRead(from: side)
    }

    func writabilityChanged(_ side: ConnectionSide, isWritable: Bool) {
        perform(machine.writabilityChanged(side, isWritable: isWritable))
    }

    // MARK: - Actions

    func perform(_ action: ProxyConnectionStateMachine.Action) {
        switch action {
        case .none:
            break
        case .startLogin:
            let timeout = TimeAmount.seconds(Int64(environment.settings.connectTimeoutSeconds))
            loginTimeout = clientChannel.eventLoop.assumeIsolated().scheduleTask(in: timeout) { [self] in
                perform(machine.loginTimeoutFired())
            }
            identifyClient()
            connectBackend()
        case .login(let steps):
            for step in steps { perform(step) }
        case .relayFromClient(let buffer):
            relayFromClient(buffer)
        case .forwardToClient(let buffer):
            statistics.bytesToClient += buffer.readableBytes
            handlers?.client.write(buffer)
        case .flush(let side):
            handler(side)?.flush()
            countBytesIfMany()
        case .shutdownOutput(let side):
            handler(side)?.shutdownOutputAfterPendingWrites()
        case .backendReady:
            sendProxyHeader()
        case .close(let client, let backend):
            close(clientChannel, client)
            if let backendChannel { close(backendChannel, backend) }
        case .resumeReading(let client, let backend):
            if backend { handlers?.backend.resumeReading() }
            if client { handlers?.client.resumeReading() }
        case .answerRefusal(let answer, let then):
            answerRefusedChangeUser(answer, then: then)
        case .finish(let outcome):
            loginTimeout?.cancel()
            refusalTimer?.cancel()
            handlers = nil
            connectionEnded(outcome: outcome)
        }
    }

    /// MariaDB resolves the client's host before it sends the greeting; so do we (off the event
    /// loop, and only when skip_name_resolve is OFF).
    private func identifyClient() {
        let transport = environment.transport
        let address = clientAddress
        guard transport == .tcp, !environment.settings.skipNameResolve, let ip = ClientAddress.normalizedIP(address)
        else {
            perform(
                machine.clientIdentified(
                    ClientAddress.identity(transport: transport, address: address, resolvedHost: nil)
                )
            )
            return
        }
        let loopBound = NIOLoopBound(self, eventLoop: clientChannel.eventLoop)
        environment.nameResolverPool.runIfActive(eventLoop: clientChannel.eventLoop) {
            ClientAddress.resolveHostName(ip: ip)
        }.whenComplete { result in
            let connection = loopBound.value
            let name = (try? result.get()) ?? nil
            connection.perform(
                connection.machine.clientIdentified(
                    ClientAddress.identity(transport: transport, address: address, resolvedHost: name)
                )
            )
        }
    }

    func close(_ channel: Channel, _ how: ProxyConnectionStateMachine.ChannelClose) {
        switch how {
        case .keep: break
        case .afterPendingWrites: closeAfterPendingWrites(channel)
        case .now: channel.close(promise: nil)
        }
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
}

@available(*, unavailable)
extension ProxyConnection: Sendable {}
