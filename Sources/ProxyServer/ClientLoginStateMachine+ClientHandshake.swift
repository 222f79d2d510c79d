import MariaDBWire
import NIOCore

/// The client's half of the connection phase in ``ClientLoginStateMachine``: its first packet
/// (SSLRequest or HandshakeResponse), the HandshakeResponse, and the login the backend gets for it.
extension ClientLoginStateMachine {
    mutating func firstClientPacket(_ packet: Packet) -> [Action] {
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
    mutating func handshakeResponse(_ packet: Packet, clientOffset: UInt8) -> [Action] {
        let expected: UInt8 = clientOffset == 0 ? 1 : 2
        guard packet.sequenceID == expected else {
            return badHandshake(
                "HandshakeResponse has sequence id \(packet.sequenceID), expected \(expected)",
                sequenceID: expected &+ 1
            )
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
            return close(
                outcome: .characterSetRefused(refused),
                sending: [.sendToClient(Packet(sequenceID: expected &+ 1, payload: err.encode()))]
            )
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
    mutating func backendTLSLogin(
        _ response: HandshakeResponse,
        negotiated: CapabilityFlags,
        clientOffset: UInt8
    ) -> [Action] {
        guard backendOffersTLS, response.isProtocol41 else {
            let reason =
                backendOffersTLS
                ? "backend_ssl needs a protocol 4.1 client" : "backend_ssl is ON but the backend does not offer TLS"
            let err = MariaDBError.backendUnavailable(reason)
            return close(
                outcome: .backendFailed(reason),
                sending: [.sendToClient(Packet(sequenceID: nextClientSequence, payload: err.encode()))]
            )
        }
        let capabilities = negotiated.union(.ssl)
        let sslRequest = SSLRequest(
            capabilities: capabilities,
            maxPacketSize: response.maxPacketSize,
            characterSet: response.characterSet
        )
        state = .authenticating(SequenceMapper(offset: clientOffset &- 1))
        return [
            .startBackendTLS(sslRequest: Packet(sequenceID: 1, payload: sslRequest.encode())),
            .sendToBackend(Packet(sequenceID: 2, payload: response.forwardedPayload(capabilities: capabilities))),
        ]
    }
}
