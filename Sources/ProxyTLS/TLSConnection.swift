import COpenSSL
import NIOCore

/// A typed wrapper over one `SSL*` (server side for clients, client side for the backend) and its `ByteBufferBIO`. It maps OpenSSL's return
/// codes onto `TLSConnection.Result`; it never touches a channel. Confined to one event loop.
final class TLSConnection {
    enum Result: Equatable {
        /// The operation finished.
        case complete
        /// OpenSSL needs more ciphertext from the peer.
        case wantRead
        /// The peer sent close_notify.
        case closed
        /// A fatal TLS error, with OpenSSL's reason.
        case failed(String)
    }

    let ssl: OpaquePointer
    let bio: ByteBufferBIO
    /// Keeps the context (and its configuration) alive for as long as this connection lives.
    let context: AnyObject

    init?(context: TLSServerContext, allocator: ByteBufferAllocator) {
        guard let ssl = context.makeSSL() else { return nil }
        self.ssl = ssl
        self.context = context
        self.bio = ByteBufferBIO(allocator: allocator)
        // One BIO for both directions: SSL_set_bio then owns exactly the one reference BIO_new gave us.
        SSL_set_bio(ssl, bio.bio, bio.bio)
        SSL_set_accept_state(ssl)
    }

    /// Client side, to the backend `host` (nil: a unix socket, no host name to check).
    init?(clientContext: TLSClientContext, host: String?, allocator: ByteBufferAllocator) {
        guard let ssl = clientContext.makeSSL(host: host) else { return nil }
        self.ssl = ssl
        self.context = clientContext
        self.bio = ByteBufferBIO(allocator: allocator)
        SSL_set_bio(ssl, bio.bio, bio.bio)
    }

    /// Why the peer's certificate did not verify (`X509_verify_cert_error_string`), or nil if it did
    /// (or was not checked).
    var verifyFailure: String? {
        let result = SSL_get_verify_result(ssl)
        guard result != X509_V_OK else { return nil }
        return String(cString: X509_verify_cert_error_string(result))
    }

    deinit {
        bio.detach()
        SSL_free(ssl)
    }

    func doHandshake() -> Result {
        OpenSSLErrorQueue.clear()
        let rc = SSL_do_handshake(ssl)
        if rc == 1 { return .complete }
        return classify(rc, during: "handshake")
    }

    /// Room for the plaintext of the ciphertext at hand (plaintext is never longer), so a short
    /// query costs a short buffer; a record larger than the room is simply read in parts.
    var plaintextRoom: Int { min(16 * 1024, max(1024, bio.pendingInboundBytes)) }

    /// Decrypts everything available into `buffer` (appending), growing it by `plaintextRoom`.
    func read(into buffer: inout ByteBuffer) -> Result {
        while true {
            OpenSSLErrorQueue.clear()
            var readCount = 0
            var rc: CInt = 0
            buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: plaintextRoom) { pointer in
                rc = SSL_read_ex(ssl, pointer.baseAddress, pointer.count, &readCount)
                return rc == 1 ? readCount : 0
            }
            if rc != 1 {
                return classify(rc, during: "read")
            }
            // Everything received is decrypted: another SSL_read would only report WANT_READ (one
            // record per query on the relay path, so this halves the SSL_read calls).
            if bio.pendingInboundBytes == 0 && SSL_has_pending(ssl) == 0 {
                return .wantRead
            }
        }
    }

    /// Encrypts `buffer` entirely into the BIO's outbound buffer.
    func write(_ buffer: ByteBuffer) -> Result {
        var remaining = buffer
        while remaining.readableBytes > 0 {
            OpenSSLErrorQueue.clear()
            var written = 0
            let rc = remaining.withUnsafeReadableBytes { pointer in
                SSL_write_ex(ssl, pointer.baseAddress, pointer.count, &written)
            }
            if rc != 1 {
                return classify(rc, during: "write")
            }
            remaining.moveReaderIndex(forwardBy: written)
        }
        return .complete
    }

    /// Sends close_notify (we do not wait for the peer's).
    func shutdown() {
        OpenSSLErrorQueue.clear()
        _ = SSL_shutdown(ssl)
        OpenSSLErrorQueue.clear()
    }

    /// The negotiated parameters and the client certificate's names.
    func facts() -> TLSFacts {
        let version = SSL_get_version(ssl).map { String(cString: $0) } ?? ""
        let cipher = copenssl_SSL_get_cipher_name(ssl).map { String(cString: $0) } ?? ""
        var subject: String?
        var issuer: String?
        if let certificate = SSL_get1_peer_certificate(ssl) {
            subject = X509Name.oneLine(X509_get_subject_name(certificate))
            issuer = X509Name.oneLine(X509_get_issuer_name(certificate))
            X509_free(certificate)
        }
        return TLSFacts(
            version: version,
            cipher: cipher,
            peerSubject: subject,
            peerIssuer: issuer,
            verifyResult: Int(SSL_get_verify_result(ssl)),
            sessionReused: SSL_session_reused(ssl) == 1,
            // The proxy's own certificate on the client side (for the zero-configuration TLS proof).
            serverCertificateSHA256: (context as? TLSServerContext)?.certificateSHA256 ?? []
        )
    }

    private func classify(_ rc: CInt, during operation: String) -> Result {
        let error = SSL_get_error(ssl, rc)
        switch error {
        case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
            return .wantRead
        case SSL_ERROR_ZERO_RETURN:
            return .closed
        case SSL_ERROR_SYSCALL:
            return .failed(
                OpenSSLErrorQueue.drainedDescription(fallback: "unexpected end of stream during \(operation)")
            )
        default:
            return .failed(OpenSSLErrorQueue.drainedDescription(fallback: "\(operation) failed (SSL error \(error))"))
        }
    }
}
