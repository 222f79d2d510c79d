import MariaDBWire
import NIOCore
import ProxyTLS

/// Carrying out the login's steps (``ProxyConnectionStateMachine/LoginStep``).
extension ProxyConnection {
    func perform(_ step: ProxyConnectionStateMachine.LoginStep) {
        switch step {
        case .sendToClient(let packet):
            statistics.bytesToClient += 4 + packet.payload.readableBytes
            handlers?.client.writeAndFlush(encodePacket(sequenceID: packet.sequenceID, payload: packet.payload))
        case .sendToBackend(let packet):
            handlers?.backend.writeAndFlush(encodePacket(sequenceID: packet.sequenceID, payload: packet.payload))
        case .startTLS(let failurePacket, let bufferedBytes):
            startTLS(failurePacket: failurePacket, bufferedBytes: bufferedBytes)
        case .startBackendTLS(let sslRequest):
            startBackendTLS(sslRequest: sslRequest)
        case .startRelaying(let fromClient, let fromBackend):
            startRelaying(fromClient: fromClient, fromBackend: fromBackend)
        case .backendReachable(let reachable):
            recordBackendReachability(reachable)
        case .warnAboutBackend(let message, let reason):
            logger.warning(
                "\(message)",
                metadata: ["backend": "\(environment.settings.backend)", "error": "\(reason)"]
            )
        case .close:
            loginTimeout?.cancel()
            closeAfterPendingWrites(clientChannel)
            if let backendChannel { closeAfterPendingWrites(backendChannel) }
        }
    }

    private func startTLS(failurePacket: Packet, bufferedBytes: ByteBuffer) {
        guard let tlsContext = environment.tlsContext else { return }
        let handler = TLSServerHandler(
            context: tlsContext,
            initialCiphertext: bufferedBytes,
            plaintextAfterHandshakeFailure: encodePacket(
                sequenceID: failurePacket.sequenceID,
                payload: failurePacket.payload
            ),
            // The handler holds a max_handshakes slot from the complete ClientHello to the end of the handshake.
            admission: environment.handshakeGate
        )
        statistics.tlsStartedAt = .now()
        do {
            try clientChannel.pipeline.syncOperations.addHandler(handler, position: .first)
        } catch {
            perform(machine.tlsNotStarted("\(error)"))
        }
    }

    private func startRelaying(fromClient: ByteBuffer, fromBackend: ByteBuffer) {
        loginTimeout?.cancel()
        loginTimeout = nil
        if fromClient.readableBytes > 0 {
            relayFromClient(fromClient)
            handlers?.backend.flush()
        }
        if fromBackend.readableBytes > 0 {
            statistics.bytesToClient += fromBackend.readableBytes
            handlers?.client.writeAndFlush(fromBackend)
        }
        sessionEstablished()
        reportAuditedRefusal(at: "login")
    }
}
