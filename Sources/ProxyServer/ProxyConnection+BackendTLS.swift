import MariaDBWire
import NIOCore
import ProxyTLS

/// backend_ssl: the proxy's own in-band TLS upgrade with the backend, as a MariaDB client makes it
/// (the client library's SSLRequest, then the handshake, then the login response over TLS).
///
/// The login machine emits `startBackendTLS` with the SSLRequest when the client's response has
/// been checked; the PROXY header (if any) went out before the greeting, so it precedes TLS. The
/// `TLSClientHandler` goes to the front of the backend's pipeline, so everything after it — the
/// rest of the login and the relay, with its backpressure — is encrypted and decrypted there.
/// Its failure reaches the connection as an error on the backend channel (`channelError`).
extension ProxyConnection {
    func startBackendTLS(sslRequest: Packet) {
        guard let backend = backendChannel, let context = environment.backendTLSContext else {
            perform(machine.backendFailed("backend TLS: no backend connection"))
            return
        }
        handlers?.backend.writeAndFlush(encodePacket(sequenceID: sslRequest.sequenceID, payload: sslRequest.payload))
        var host: String?
        if case .tcp(let name, _) = environment.settings.backend { host = name }
        do {
            try backend.pipeline.syncOperations.addHandler(
                TLSClientHandler(context: context, host: host),
                position: .first
            )
        } catch {
            perform(machine.backendTLSFailed("\(TLSError.handshakeFailed("cannot start TLS (\(error))"))"))
        }
    }

    func backendTLSEstablished(_ facts: TLSFacts) {
        logger.debug(
            "backend TLS established",
            metadata: [
                "backend": "\(environment.settings.backend)",
                "tls_version": "\(facts.version)",
                "cipher": "\(facts.cipher)",
                "backend_certificate": "\(facts.peerSubject ?? "")",
                "session_reused": "\(facts.sessionReused)",
            ]
        )
    }
}
