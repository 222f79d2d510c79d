import MariaDBWire
import NIOCore

/// How ``ProxyConnectionStateMachine`` runs the login machine: packets framed for it, its actions
/// turned into ``ProxyConnectionStateMachine/LoginStep``s, and the state that follows from its phase.
extension ProxyConnectionStateMachine {
    /// Runs `body` on the data of a login state, then settles the state from the login's phase.
    /// Returns nil (and runs nothing) in any other state.
    mutating func runLogin(_ body: (inout Self, inout LoginData, inout [LoginStep]) -> Void) -> Action? {
        switch state {
        case .awaitingGreeting(var data), .greetingHeld(var data), .loggingIn(var data), .tlsHandshaking(var data):
            state = .modifying
            var steps: [LoginStep] = []
            body(&self, &data, &steps)
            state = settled(data)
            return steps.isEmpty ? Action.none : .login(steps)
        default:
            return nil
        }
    }

    /// The data of the login state the machine is in, if it is in one.
    var loginData: LoginData? {
        switch state {
        case .awaitingGreeting(let data), .greetingHeld(let data), .loggingIn(let data), .tlsHandshaking(let data):
            return data
        default:
            return nil
        }
    }

    /// The state that follows from the login machine's phase.
    func settled(_ data: LoginData) -> State {
        if login.isRelaying { return .relaying(RelayData()) }
        // The login's last action was `close`, which closes both channels.
        if login.isClosed { return .closing(ClosingData(clientOpen: true, backend: data.backend)) }
        if login.awaitingBackendGreeting { return .awaitingGreeting(data) }
        if !login.greetingSent { return .greetingHeld(data) }
        if login.isTLSHandshaking { return .tlsHandshaking(data) }
        return .loggingIn(data)
    }

    /// Hands the login machine the client's framed packets for as long as it takes them.
    mutating func processClientPackets(data: inout LoginData, steps: inout [LoginStep]) {
        while login.wantsClientPacket {
            let actions: [ClientLoginStateMachine.Action]
            do {
                guard let packet = try data.clientFramer.nextPacket() else { return }
                actions = login.clientPacketReceived(packet)
            } catch {
                actions = login.clientProtocolError("\(error)")
            }
            Self.append(actions, data: &data, to: &steps)
        }
    }

    /// The login machine's actions as steps; TLS and the relay take the bytes framed so far.
    static func append(_ actions: [ClientLoginStateMachine.Action], data: inout LoginData, to steps: inout [LoginStep])
    {
        for action in actions {
            switch action {
            case .sendToClient(let packet):
                steps.append(.sendToClient(packet))
            case .sendToBackend(let packet):
                steps.append(.sendToBackend(packet))
            case .startTLS(let failurePacket):
                steps.append(
                    .startTLS(failurePacket: failurePacket, bufferedBytes: data.clientFramer.takeRemainingBytes())
                )
            case .startBackendTLS(let sslRequest):
                steps.append(.startBackendTLS(sslRequest: sslRequest))
            case .startRelaying:
                steps.append(
                    .startRelaying(
                        fromClient: data.clientFramer.takeRemainingBytes(),
                        fromBackend: data.backendFramer.takeRemainingBytes()
                    )
                )
            case .close:
                steps.append(.close)
            }
        }
    }

    /// The backend went away (EOF or closed) before the login finished: 1429 for the client.
    mutating func backendLost(data: inout LoginData, steps: inout [LoginStep]) {
        if login.awaitingBackendGreeting { steps.append(.backendReachable(false)) }
        // A backend not trusting the PROXY header sends 1130 and a reset that loses it: name the cause.
        let hint = configuration.sendsProxyHeader ? " (is the proxy in its proxy_protocol_networks?)" : ""
        let reason = "backend \(configuration.backendName) closed the connection during login\(hint)"
        Self.append(login.backendFailed(reason), data: &data, to: &steps)
    }

    /// Ends a login at once: both channels closed now, nothing more sent.
    mutating func closeNow(backend: BackendLeg) -> Action {
        state = .closing(ClosingData(clientOpen: true, backend: backend))
        return .close(client: .now, backend: backend == .open ? .now : .keep)
    }

    /// In `closing`: `closed` (and the connection's account) once both channels are closed.
    mutating func closingProgress(_ closing: ClosingData) -> Action {
        guard !closing.clientOpen, closing.backend == .closed else {
            state = .closing(closing)
            return .none
        }
        state = .closed
        return .finish(login.outcome)
    }
}
