import AccessPolicy
import MariaDBWire
import NIOCore

/// ``ProxyConnectionStateMachine``'s events besides the client's reads: the backend channel, EOF
/// and the end of either channel, writability, the login timeout, and the relay's COM_CHANGE_USER pause.
extension ProxyConnectionStateMachine {
    // MARK: - Backend channel

    /// The backend connection is up. `seenAs`: who the backend takes the client for (nil with a PROXY header).
    mutating func backendConnected(seenAs: [ClientIdentity]?) -> Action {
        let connected = runLogin { machine, data, _ in
            precondition(data.backend == .connecting, "backend connected twice")
            data.backend = .open
            machine.login.backendConnected(seenAs: seenAs)
        }
        if connected != nil { return .backendReady }
        guard case .closing(var closing) = state else { preconditionFailure("backend connected in \(state)") }
        // The client left (or the login failed) while the backend was being connected.
        if closing.backend == .connecting { closing.backend = .open }
        state = .closing(closing)
        return .close(client: .keep, backend: .now)
    }

    /// The backend could not be connected (`reason` names the backend and why).
    mutating func backendConnectFailed(reason: String) -> Action {
        if let action = runLogin({ machine, data, steps in
            data.backend = .closed
            Self.append(machine.login.backendFailed(reason), data: &data, to: &steps)
        }) {
            return action
        }
        guard case .closing(var closing) = state else { preconditionFailure("backend connect failed in \(state)") }
        closing.backend = .closed
        return closingProgress(closing)
    }

    /// Bytes from the backend. `rules`: the accounts current now, for the check at the backend's login OK.
    mutating func backendRead(_ buffer: ByteBuffer, rules: () -> ClientLoginStateMachine.AccountRules) -> Action {
        switch state {
        case .relaying, .clientHalfClosed: return .forwardToClient(buffer)
        case .closing, .closed: return .none
        default: break
        }
        if let action = runLogin({ machine, data, steps in
            data.backendFramer.append(buffer)
            while !machine.login.isClosed && !machine.login.isRelaying {
                let actions: [ClientLoginStateMachine.Action]
                do {
                    guard let packet = try data.backendFramer.nextPacket() else { break }
                    steps.append(.backendReachable(true))
                    actions = machine.login.backendPacketReceived(packet, rules: rules())
                } catch {
                    actions = machine.login.backendFailed(
                        "backend \(machine.configuration.backendName) sent a malformed packet (\(error))"
                    )
                }
                Self.append(actions, data: &data, to: &steps)
            }
            machine.processClientPackets(data: &data, steps: &steps)
        }) {
            return action
        }
        preconditionFailure("backend read in \(state)")
    }

    /// backend_ssl: the TLS handshake with the backend failed (wrong CA, host name mismatch…).
    mutating func backendTLSFailed(_ description: String) -> Action {
        runLogin { machine, data, steps in
            steps.append(.warnAboutBackend(message: "TLS with the backend failed", reason: description))
            Self.append(machine.login.backendFailed("backend \(description)"), data: &data, to: &steps)
        } ?? .none
    }

    /// backend_ssl could not start (no backend channel, or the TLS handler could not be added).
    mutating func backendFailed(_ reason: String) -> Action {
        runLogin { machine, data, steps in
            Self.append(machine.login.backendFailed(reason), data: &data, to: &steps)
        } ?? .none
    }

    // MARK: - Either channel

    /// EOF on `side` (a TCP FIN, or TLS close_notify from the client).
    mutating func inputClosed(_ side: ConnectionSide) -> Action {
        switch (state, side) {
        case (.accepting, _), (.modifying, _):
            preconditionFailure("input closed in \(state)")
        case (.awaitingGreeting(let data), .client), (.greetingHeld(let data), .client),
            (.loggingIn(let data), .client), (.tlsHandshaking(let data), .client):
            login.abandon(outcome: login.isTLSHandshaking ? Self.clientLeftTLSHandshake : .clientClosedDuringLogin)
            return closeNow(backend: data.backend)
        case (.awaitingGreeting, .backend), (.greetingHeld, .backend), (.loggingIn, .backend),
            (.tlsHandshaking, .backend):
            return runLogin { machine, data, steps in machine.backendLost(data: &data, steps: &steps) } ?? .none
        case (.relaying(var relay), .client):
            guard relay.refusal != nil else {
                // Half-close: the backend still gets the bytes already sent, then EOF.
                state = .clientHalfClosed
                return .shutdownOutput(.backend)
            }
            // Behind a refused COM_CHANGE_USER the client's bytes wait for its answer; the EOF follows them.
            state = .modifying
            relay.refusal!.clientInputEnded = true
            state = .relaying(relay)
            return .none
        case (.relaying, .backend), (.clientHalfClosed, .backend):
            // A MariaDB server never half-closes: its EOF ends the session. The client gets what
            // was already sent, then the close (close_notify over TLS), and its slot is freed.
            state = .closing(ClosingData(clientOpen: true, backend: .open))
            return .close(client: .afterPendingWrites, backend: .now)
        case (.clientHalfClosed, .client), (.closing, _), (.closed, _):
            return .none
        }
    }

    /// `side`'s channel is closed (channelInactive, or the backend's close future: a channel closed
    /// from inside its own connect callback may never deliver channelInactive to its handlers).
    mutating func channelClosed(_ side: ConnectionSide) -> Action {
        switch (state, side) {
        case (.modifying, _), (.accepting, .backend):
            preconditionFailure("channel closed in \(state)")
        case (.accepting, .client):
            state = .closed
            return .finish(login.outcome)
        case (.awaitingGreeting(let data), .client), (.greetingHeld(let data), .client),
            (.loggingIn(let data), .client), (.tlsHandshaking(let data), .client):
            login.abandon(
                outcome: login.isTLSHandshaking ? Self.clientLeftTLSHandshake : .clientDisconnectedDuringLogin
            )
            let closing = ClosingData(clientOpen: false, backend: data.backend)
            guard data.backend == .open else { return closingProgress(closing) }
            state = .closing(closing)
            return .close(client: .keep, backend: .afterPendingWrites)
        case (.awaitingGreeting, .backend), (.greetingHeld, .backend), (.loggingIn, .backend),
            (.tlsHandshaking, .backend):
            return runLogin { machine, data, steps in
                data.backend = .closed
                machine.backendLost(data: &data, steps: &steps)
            } ?? .none
        case (.relaying, .client), (.clientHalfClosed, .client):
            state = .closing(ClosingData(clientOpen: false, backend: .open))
            return .close(client: .keep, backend: .afterPendingWrites)
        case (.relaying, .backend), (.clientHalfClosed, .backend):
            state = .closing(ClosingData(clientOpen: true, backend: .closed))
            return .close(client: .afterPendingWrites, backend: .keep)
        case (.closing(var closing), _):
            if side == .client { closing.clientOpen = false } else { closing.backend = .closed }
            return closingProgress(closing)
        case (.closed, _):
            return .none
        }
    }

    /// `side`'s writability changed: record it; when it can take bytes again, resume the reads it held.
    mutating func writabilityChanged(_ side: ConnectionSide, isWritable: Bool) -> Action {
        switch side {
        case .client: clientWritable = isWritable
        case .backend: backendWritable = isWritable
        }
        guard isWritable else { return .none }
        return .resumeReading(client: mayRead(from: .client), backend: side == .client && mayRead(from: .backend))
    }

    // MARK: - Timers and the relay

    /// `connect_timeout` passed before the backend's login OK. While the backend has not greeted,
    /// the client waited for it: the backend is blamed (1429), as for one that cannot be reached.
    /// Afterwards it is the client's turn that took too long: the connection is dropped silently.
    mutating func loginTimeoutFired() -> Action {
        let seconds = configuration.connectTimeoutSeconds
        switch state {
        case .awaitingGreeting(let data):
            let backend = configuration.backendName
            let reason: String
            var warning: LoginStep?
            if data.backend == .connecting {
                // Worded as the connect attempt's own timeout, which logs it when it fires.
                let timeout = ChannelError.connectTimeout(.seconds(Int64(seconds)))
                reason = "backend \(backend): \(BackendErrorDescription.describe(timeout, timeoutSeconds: seconds))"
            } else {
                reason = "backend \(backend): no greeting within connect_timeout (\(seconds)s)"
                warning = .warnAboutBackend(message: "the backend sent no greeting", reason: reason)
            }
            return runLogin { machine, data, steps in
                steps.append(.backendReachable(false))
                if let warning { steps.append(warning) }
                Self.append(machine.login.backendFailed(reason), data: &data, to: &steps)
            } ?? .none
        case .greetingHeld(let data), .loggingIn(let data), .tlsHandshaking(let data):
            login.abandon(outcome: .loginTimedOut(seconds: seconds))
            return closeNow(backend: data.backend)
        case .relaying, .clientHalfClosed, .closing, .closed:
            // The relay's start cancels the timer; a run NIO had already taken up in the same tick
            // of the event loop may still come, and finds nothing to do.
            return .none
        case .accepting, .modifying:
            preconditionFailure("login timeout in \(state)")
        }
    }

    /// A COM_CHANGE_USER was refused: the client's stream pauses for MariaDB's one second.
    /// Returns false when the connection is already closing (a write that failed during the same
    /// read closed the client): there is nobody left to answer.
    mutating func changeUserRefused(answer: Packet, thenClose: Bool) -> Bool {
        switch state {
        case .relaying(var relay) where relay.refusal == nil:
            relay.refusal = RefusalPause(answer: answer, thenClose: thenClose)
            state = .relaying(relay)
            return true
        case .closing, .closed:
            return false
        default:
            preconditionFailure("COM_CHANGE_USER refused in \(state)")
        }
    }

    /// The pause after a refused COM_CHANGE_USER is over.
    mutating func refusalDelayElapsed() -> Action {
        switch state {
        case .relaying(let relay):
            guard let refusal = relay.refusal else { preconditionFailure("no COM_CHANGE_USER refusal pending") }
            if refusal.thenClose {
                state = .closing(ClosingData(clientOpen: true, backend: .open))
                return .answerRefusal(refusal.answer, then: .close)
            }
            state = .relaying(RelayData())
            return .answerRefusal(
                refusal.answer,
                then: .resume(heldBytes: refusal.heldBytes, clientInputEnded: refusal.clientInputEnded)
            )
        case .closing, .closed:
            return .none
        case .accepting, .awaitingGreeting, .greetingHeld, .loggingIn, .tlsHandshaking, .clientHalfClosed, .modifying:
            preconditionFailure("COM_CHANGE_USER pause ended in \(state)")
        }
    }

    /// The relay cannot go on (a held command beyond the size cap): close both channels now.
    mutating func relayFailed() -> Action {
        switch state {
        case .relaying, .clientHalfClosed:
            return closeNow(backend: .open)
        default:
            return .none
        }
    }
}
