import Logging
import MariaDBWire
import NIOCore

/// The relay, client → backend: bytes forwarded as they come, with COM_CHANGE_USER held back for
/// the account check and COM_MULTI kept from the backend.
extension ProxyConnection {
    /// MariaDB sleeps one second after a failed COM_CHANGE_USER before it answers (sql/sql_parse.cc,
    /// dispatch_command), which bounds password guessing through one session.
    static let refusedChangeUserDelay = TimeAmount.seconds(1)

    /// Forwards client bytes, holding back any COM_CHANGE_USER until the policy has seen it and
    /// answering COM_MULTI as MariaDB 10.6+ does (1047) instead of forwarding it.
    func relayFromClient(_ buffer: ByteBuffer) {
        let backend = handlers?.backend
        let result = changeUserInterceptor.feed(
            buffer,
            forward: { backend?.write($0) },
            held: { command, packet in
                if command == CommandByte.changeUser { return handleChangeUser(packet) }
                replaceWithUnknownCommand(command)
                return true
            }
        )
        if case .oversized(let total) = result {
            if logsRefusals {
                logger.warning(
                    "closing session: held command packet of \(total) bytes",
                    metadata: ["user": "\(machine.login.username ?? "")"]
                )
            }
            perform(machine.relayFailed())
        }
    }

    /// COM_MULTI: its packed commands would run unchecked on a 10.2–10.5 backend, so it never
    /// reaches it. In its place the backend gets a command byte no MariaDB or MySQL version knows
    /// (0x20, the first of the unused range, dispatched as COM_END), which every one answers with
    /// 1047 `Unknown command` — as MariaDB 10.6+ answers COM_MULTI itself — in order with the
    /// results before it, and with the backend's own flow control.
    func replaceWithUnknownCommand(_ command: UInt8) {
        if !statistics.loggedUnknownCommand && logsRefusals {
            statistics.loggedUnknownCommand = true
            logger.warning(
                "COM_MULTI refused (further ones in this session are not logged)",
                metadata: [
                    "user": "\(machine.login.username ?? "")", "command": "\(command)",
                ]
            )
        }
        handlers?.backend.write(ByteBuffer(bytes: [0x01, 0x00, 0x00, 0x00, CommandByte.unusedCommand]))
    }

    /// Returns false when the change is refused: the stream behind it waits for the answer.
    func handleChangeUser(_ packet: ByteBuffer) -> Bool {
        let payload = packet.getSlice(at: packet.readerIndex + 4, length: packet.readableBytes - 4) ?? ByteBuffer()
        let decision = machine.changeUserRequested(payload, rules: environment.currentRules())
        let answer: Packet
        let thenClose: Bool
        switch decision {
        case .forward:
            reportAuditedRefusal(at: "change_user")
            // A session may change user as often as it likes: the first change is logged at info,
            // the rest at debug, so one client cannot fill the log; only with log_connections = ALL.
            // The proxy's check passed; the backend still checks the password (its answer is relayed unread).
            var metadata: Logger.Metadata = [
                "user": "\(machine.login.username ?? "")", "account": "\(machine.login.matchedAccount ?? "-")",
            ]
            if let id = machine.login.backendConnectionID { metadata["backend_connection_id"] = "\(id)" }
            if !logsEverything {
                // Not logged.
            } else if statistics.loggedAllowedChangeUser {
                logger.debug("COM_CHANGE_USER allowed", metadata: metadata)
            } else {
                statistics.loggedAllowedChangeUser = true
                logger.info(
                    "COM_CHANGE_USER allowed (further changes in this session are logged at debug level)",
                    metadata: metadata
                )
            }
            if let rewritten = machine.backendChangeUserPayload(payload) {
                // The attribute block rewritten as the login's (`_proxy_` keys are the proxy's).
                handlers?.backend.write(
                    encodePacket(sequenceID: packet.getInteger(at: packet.readerIndex + 3) ?? 0, payload: rewritten)
                )
            } else {
                handlers?.backend.write(packet)
            }
            return true
        case .refuse(let packet):
            (answer, thenClose) = (packet, false)
        case .refuseAndClose(let packet):
            (answer, thenClose) = (packet, true)
        }
        // At most maxRefusedChangeUsers + 1 of these lines per session: the last one closes it.
        if logsRefusals {
            logger.warning(
                thenClose ? "COM_CHANGE_USER refused, closing the session" : "COM_CHANGE_USER refused",
                metadata: [
                    "user": "\(machine.login.username ?? "")", "account": "\(machine.login.matchedAccount ?? "-")",
                    "reason": "\(machine.login.lastChangeUserRefusal ?? "malformed packet")",
                ]
            )
        }
        // What the client sent before the change goes to the backend now; its answers come first.
        handlers?.backend.flush()
        guard machine.changeUserRefused(answer: answer, thenClose: thenClose) else { return false }
        refusalTimer = clientChannel.eventLoop.assumeIsolated().scheduleTask(in: Self.refusedChangeUserDelay) {
            [self] in
            refusalTimer = nil
            perform(machine.refusalDelayElapsed())
        }
        return false
    }

    /// The pause is over: the answer, then the close or what the client sent meanwhile.
    func answerRefusedChangeUser(_ answer: Packet, then next: ProxyConnectionStateMachine.AfterRefusal) {
        statistics.bytesToClient += 4 + answer.payload.readableBytes
        handlers?.client.writeAndFlush(encodePacket(sequenceID: answer.sequenceID, payload: answer.payload))
        switch next {
        case .close:
            perform(.close(client: .afterPendingWrites, backend: .afterPendingWrites))
        case .resume(let heldBytes, let clientInputEnded):
            // Go on with what the client sent behind the refused change.
            relayFromClient(heldBytes)
            handlers?.backend.flush()
            if clientInputEnded {
                // The client half-closed while the refusal waited: pass its EOF on behind those bytes.
                perform(machine.inputClosed(.client))
            } else if machine.mayRead(from: .client) {
                handlers?.client.resumeReading()
            }
        }
    }
}
