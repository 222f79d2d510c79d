import AccessPolicy
import ProxyTLS

extension ConnectionSecurity {
    /// The policy's view of this connection's TLS (nil = plaintext).
    init(_ facts: TLSFacts?) {
        guard let facts else {
            self = .plaintext
            return
        }
        self.init(
            isTLS: true,
            cipher: facts.cipher,
            peerCertificatePresented: facts.hasPeerCertificate,
            verifyResultIsOK: facts.verifyResult == 0,
            peerSubject: facts.peerSubject,
            peerIssuer: facts.peerIssuer
        )
    }
}
