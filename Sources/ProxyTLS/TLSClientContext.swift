import COpenSSL
import NIOConcurrencyHelpers

/// One immutable OpenSSL client context (`SSL_CTX` with `TLS_client_method`) for the TLS
/// connections from the proxy to its backend (`backend_ssl`), built from `BackendTLSSettings` the
/// way the MariaDB client sets up its connector (`--ssl-ca`, `--ssl-capath`, `--ssl-cert`,
/// `--ssl-key`, `--ssl-verify-server-cert`).
///
/// A snapshot builds one per load (startup, every reload); connections share it. It also keeps
/// the backend's latest resumable session, so the next connection resumes instead of running a
/// full handshake (the context serves one backend endpoint: its snapshot's).
///
/// Safety: the `SSL_CTX` is fully configured in `init` and never changed after it is published;
/// the session slot is guarded by a lock (OpenSSL calls the new-session callback on the event
/// loop of the connection that received the session).
public final class TLSClientContext: @unchecked Sendable {
    let context: OpaquePointer
    /// Whether the chain and the host name are verified (`SSL_VERIFY_PEER` plus a host check).
    public let verifiesServerCertificate: Bool
    private let latestSession = NIOLockedValueBox<OpaquePointer?>(nil)

    /// Builds and validates a context. Every failure names the option and the file.
    public init(settings: BackendTLSSettings) throws(TLSConfigurationError) {
        OpenSSLErrorQueue.clear()
        guard let context = SSL_CTX_new(TLS_client_method()) else {
            throw TLSConfigurationError(
                option: "backend_ssl",
                detail: "SSL_CTX_new failed: \(OpenSSLErrorQueue.drainedDescription(fallback: "unknown error"))",
                mariaDBReason: "SSL_CTX_new failed"
            )
        }
        self.context = context
        self.verifiesServerCertificate = settings.verifiesServerCertificate
        // Every stored property is set: from here a throw runs deinit, which frees the context.
        _ = copenssl_SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION)
        _ = copenssl_SSL_CTX_set_options(context, copenssl_SSL_OP_NO_COMPRESSION | copenssl_SSL_OP_NO_RENEGOTIATION)
        _ = copenssl_SSL_CTX_set_mode(context, copenssl_SSL_MODE_RELEASE_BUFFERS)
        try TLSCipherPolicy.applyToClient(context: context)
        try TLSContextFiles.backend.loadVerifyLocations(
            caPath: settings.caPath,
            caDirectory: settings.caDirectory,
            into: context
        )
        if let files = settings.certificateAndKey {
            try TLSContextFiles.backend.loadCertificateAndKey(files, into: context)
        }
        // Sessions (TLS 1.2 ids/tickets, TLS 1.3 tickets, which arrive after the handshake)
        // reach `sessionReceived` through the callback; OpenSSL keeps no client cache itself.
        _ = copenssl_SSL_CTX_set_session_cache_mode(
            context,
            Int(SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE)
        )
        SSL_CTX_sess_set_new_cb(context, tlsClientContextNewSession)
        // Verification is switched on per connection (`makeSSL`), with the host name to check.
        SSL_CTX_set_verify(context, SSL_VERIFY_NONE, nil)
        // Unretained: the context is freed in deinit, and with it this pointer's only reader.
        SSL_CTX_set_ex_data(context, 0, Unmanaged.passUnretained(self).toOpaque())
    }

    deinit {
        SSL_CTX_set_ex_data(context, 0, nil)
        if let session = latestSession.withLockedValue({ $0 }) { SSL_SESSION_free(session) }
        SSL_CTX_free(context)
    }

    /// Creates the per-connection `SSL` object, client side: SNI for a host name, the host name
    /// or IP address check when verifying, and the latest session of this backend to resume.
    /// `host` is nil for a backend on a unix socket (the chain is still verified).
    func makeSSL(host: String?) -> OpaquePointer? {
        guard let ssl = SSL_new(context) else { return nil }
        if let host, !host.isEmpty {
            let isIPAddress = host.contains(":") || host.allSatisfy { $0.isNumber || $0 == "." }
            if !isIPAddress { _ = copenssl_SSL_set_tlsext_host_name(ssl, host) }
            if verifiesServerCertificate {
                let param = SSL_get0_param(ssl)
                let ok = isIPAddress ? X509_VERIFY_PARAM_set1_ip_asc(param, host) : SSL_set1_host(ssl, host)
                guard ok == 1 else {
                    SSL_free(ssl)
                    return nil
                }
            }
        }
        if verifiesServerCertificate { copenssl_SSL_set_verify_peer(ssl) }
        if let session = latestSession.withLockedValue({ session -> OpaquePointer? in
            if let session { SSL_SESSION_up_ref(session) }
            return session
        }) {
            _ = SSL_set_session(ssl, session)
            SSL_SESSION_free(session)
        }
        SSL_set_connect_state(ssl)
        return ssl
    }

    /// A new session from the backend: kept (replacing the previous one) if it can be resumed.
    /// Returns whether the reference was taken.
    fileprivate func sessionReceived(_ session: OpaquePointer) -> Bool {
        guard SSL_SESSION_is_resumable(session) == 1 else { return false }
        let previous = latestSession.withLockedValue { slot -> OpaquePointer? in
            let previous = slot
            slot = session
            return previous
        }
        if let previous { SSL_SESSION_free(previous) }
        return true
    }

    fileprivate static func from(_ ssl: OpaquePointer?) -> TLSClientContext? {
        guard let ssl, let ctx = SSL_get_SSL_CTX(ssl), let data = SSL_CTX_get_ex_data(ctx, 0) else { return nil }
        return Unmanaged<TLSClientContext>.fromOpaque(data).takeUnretainedValue()
    }
}

/// OpenSSL's new-session callback (`SSL_CTX_sess_set_new_cb`): 1 = the callback keeps the reference.
private func tlsClientContextNewSession(_ ssl: OpaquePointer?, _ session: OpaquePointer?) -> CInt {
    guard let session, let owner = TLSClientContext.from(ssl) else { return 0 }
    return owner.sessionReceived(session) ? 1 : 0
}
