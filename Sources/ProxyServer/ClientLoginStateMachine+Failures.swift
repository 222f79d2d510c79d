import MariaDBWire

/// How a login of ``ClientLoginStateMachine`` ends without a session: the backend failing, the
/// client breaking the protocol, or the connection abandoned; each leaves the machine closed with
/// its ``ConnectionOutcome``.
extension ClientLoginStateMachine {
    /// The backend could not be reached, or it failed before the login finished.
    public mutating func backendFailed(_ reason: String) -> [Action] {
        switch state {
        case .awaitingBackendGreeting:
            return preGreetingFailure(reason)
        case .awaitingFirstClientPacket, .awaitingHandshakeResponse, .authenticating:
            let err = MariaDBError.backendUnavailable(reason)
            return close(
                outcome: .backendFailed(reason),
                sending: [.sendToClient(Packet(sequenceID: nextClientSequence, payload: err.encode()))]
            )
        case .tlsHandshaking:
            return close(outcome: .backendFailed(reason), sending: [])
        case .relaying, .closed:
            return []
        }
    }

    /// The client broke the protocol (framing error, oversized packet): MariaDB's 1043.
    public mutating func clientProtocolError(_ reason: String) -> [Action] {
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
    public mutating func abandon(outcome: ConnectionOutcome) {
        if state != .relaying && state != .closed {
            self.outcome = outcome
            state = .closed
        }
    }

    /// The reason of a refusal AUDIT let through since the last call, if any.
    public mutating func takeAuditedRefusal() -> String? {
        defer { auditedRefusal = nil }
        return auditedRefusal
    }

    mutating func badHandshake(_ reason: String, sequenceID: UInt8) -> [Action] {
        let err = MariaDBError.badHandshake()
        return close(
            outcome: .badHandshake(reason: reason),
            sending: [.sendToClient(Packet(sequenceID: sequenceID, payload: err.encode()))]
        )
    }

    mutating func preGreetingFailure(_ reason: String) -> [Action] {
        // Before the greeting the client has no capabilities yet: no SQLSTATE marker, seq 0.
        let err = MariaDBError.backendUnavailable(reason)
        return close(
            outcome: .backendFailed(reason),
            sending: [.sendToClient(Packet(sequenceID: 0, payload: err.encode(includeSQLState: false)))]
        )
    }

    mutating func close(outcome: ConnectionOutcome, sending actions: [Action]) -> [Action] {
        self.outcome = outcome
        state = .closed
        return actions + [.close]
    }
}
