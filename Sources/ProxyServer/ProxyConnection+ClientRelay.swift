import Logging
import MariaDBWire
import NIOCore

/// The relay, client → backend: bytes forwarded as they come, with COM_CHANGE_USER held back for
/// the account check and COM_MULTI kept from the backend.
extension ProxyConnection {
    /// Forwards client bytes, holding back any COM_CHANGE_USER until the policy has seen it and
    /// answering COM_MULTI as MariaDB 10.6+ does (1047) instead of forwarding it.
    func relayFromClient(_ buffer: ByteBuffer) {
        if refusalPending != nil {
            // A read already under way when the refusal paused the stream: keep it, in order.
            var held = heldClientBytes ?? ByteBuffer()
            var incoming = buffer
            held.writeBuffer(&incoming)
            heldClientBytes = held
            return
        }
        let backend = backendChannel
        let result = changeUserInterceptor.feed(
            buffer,
            forward: { backend?.write($0, promise: nil) },
            held: { command, packet in
                if command == CommandByte.changeUser { return handleChangeUser(packet) }
                replaceWithUnknownCommand(command)
                return true
            }
        )
        if case .oversized(let total) = result {
            if logsRefusals {
                logger.warning("closing session: held command packet of \(total) bytes", metadata: ["user": "\(machine.username ?? "")"])
            }
            closeEverything()
        }
    }

    /// COM_MULTI: its packed commands would run unchecked on a 10.2–10.5 backend, so it never
    /// reaches it. In its place the backend gets a command byte no MariaDB or MySQL version knows
    /// (0x20, the first of the unused range, dispatched as COM_END), which every one answers with
    /// 1047 `Unknown command` — as MariaDB 10.6+ answers COM_MULTI itself — in order with the
    /// results before it, and with the backend's own flow control.
    func replaceWithUnknownCommand(_ command: UInt8) {
        if !loggedUnknownCommand && logsRefusals {
            loggedUnknownCommand = true
            logger.warning("COM_MULTI refused (further ones in this session are not logged)", metadata: [
                "user": "\(machine.username ?? "")", "command": "\(command)",
            ])
        }
        backendChannel?.write(ByteBuffer(bytes: [0x01, 0x00, 0x00, 0x00, CommandByte.unusedCommand]), promise: nil)
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
            var metadata: Logger.Metadata = ["user": "\(machine.username ?? "")", "account": "\(machine.matchedAccount ?? "-")"]
            if let id = machine.backendConnectionID { metadata["backend_connection_id"] = "\(id)" }
            if !logsEverything {
                // Not logged.
            } else if loggedAllowedChangeUser {
                logger.debug("COM_CHANGE_USER allowed", metadata: metadata)
            } else {
                loggedAllowedChangeUser = true
                logger.info("COM_CHANGE_USER allowed (further changes in this session are logged at debug level)", metadata: metadata)
            }
            if let rewritten = machine.backendChangeUserPayload(payload) {
                // The attribute block rewritten as the login's (`_proxy_` keys are the proxy's).
                backendChannel?.write(encodePacket(sequenceID: packet.getInteger(at: packet.readerIndex + 3) ?? 0, payload: rewritten), promise: nil)
            } else {
                backendChannel?.write(packet, promise: nil)
            }
            return true
        case .refuse(let packet):
            (answer, thenClose) = (packet, false)
        case .refuseAndClose(let packet):
            (answer, thenClose) = (packet, true)
        }
        // At most maxRefusedChangeUsers + 1 of these lines per session: the last one closes it.
        if logsRefusals {
            logger.warning(thenClose ? "COM_CHANGE_USER refused, closing the session" : "COM_CHANGE_USER refused", metadata: [
                "user": "\(machine.username ?? "")", "account": "\(machine.matchedAccount ?? "-")",
                "reason": "\(machine.lastChangeUserRefusal ?? "malformed packet")",
            ])
        }
        // What the client sent before the change goes to the backend now; its answers come first.
        backendChannel?.flush()
        refusalPending = clientChannel.eventLoop.assumeIsolated().scheduleTask(in: Self.refusedChangeUserDelay) { [self] in
            answerRefusedChangeUser(answer, thenClose: thenClose)
        }
        return false
    }

    func answerRefusedChangeUser(_ answer: Packet, thenClose: Bool) {
        refusalPending = nil
        guard !closing, !clientClosed else { return }
        bytesToClient += 4 + answer.payload.readableBytes
        clientChannel.writeAndFlush(encodePacket(sequenceID: answer.sequenceID, payload: answer.payload), promise: nil)
        if thenClose {
            closing = true
            closeAfterPendingWrites(clientChannel)
            if let backend = backendChannel { closeAfterPendingWrites(backend) }
            return
        }
        // Go on with what the client sent behind the refused change.
        let held = heldClientBytes ?? ByteBuffer()
        heldClientBytes = nil
        relayFromClient(held)
        backendChannel?.flush()
        if clientInputEnded {
            // The client half-closed while the refusal waited: pass its EOF on behind those bytes.
            if refusalPending == nil { clientInputClosed() }
        } else {
            resumeClientReads()
        }
    }
}
