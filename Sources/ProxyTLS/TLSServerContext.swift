import COpenSSL
import FoundationEssentials
import Glibc

/// One immutable OpenSSL server context (`SSL_CTX`), built from `TLSSettings` the way MariaDB's
/// `new_VioSSLAcceptorFd()` builds its acceptor.
///
/// Safety: fully configured in `init` and never mutated after it is published, so sharing it
/// between event-loop threads that only call `SSL_new` on it is safe (openssl-threads(7)).
/// Connections hold a strong reference, so a reload that replaces the context never frees one
/// still in use; OpenSSL's own refcount keeps the `SSL_CTX` alive for each `SSL` as well.
public final class TLSServerContext: @unchecked Sendable {
    let context: OpaquePointer

    /// The server certificate and the `ssl_ca` certificates, for the expiry checks and metric.
    public let certificates: [CertificateValidity]
    /// The certificate the proxy serves (the leaf), as logs and status lines show it.
    public var certificate: CertificateValidity? { certificates.first { $0.role == .server } }
    /// SHA-256 of the leaf certificate's DER, for the zero-configuration TLS proof of 11.4+
    /// clients (sql/sql_acl.cc make_ssl_info() hashes the server's own leaf the same way).
    public let certificateSHA256: [UInt8]
    /// The certificate was generated in memory (no ssl_cert/ssl_key), see ``GeneratedCertificate``.
    public let certificateIsGenerated: Bool

    /// Builds and validates a context. Every failure names the option and the file.
    public init(settings: TLSSettings) throws(TLSConfigurationError) {
        OpenSSLErrorQueue.clear()
        guard let context = SSL_CTX_new(TLS_server_method()) else {
            throw TLSConfigurationError(
                option: "ssl_cert",
                detail: "SSL_CTX_new failed: \(OpenSSLErrorQueue.drainedDescription(fallback: "unknown error"))",
                mariaDBReason: "SSL_CTX_new failed"
            )
        }
        self.context = context
        do {
            try Self.applyProtocolVersions(settings.versions, to: context)
            _ = copenssl_SSL_CTX_set_options(
                context,
                copenssl_SSL_OP_NO_SSLv3 | copenssl_SSL_OP_NO_COMPRESSION | copenssl_SSL_OP_NO_RENEGOTIATION
            )
            _ = copenssl_SSL_CTX_set_dh_auto(context, 1)
            // Idle connections give their 16 KiB read and write record buffers back (P4 in
            // docs/benchmarks.md: about 34 KiB per idle TLS connection; P1 did not move).
            _ = copenssl_SSL_CTX_set_mode(context, copenssl_SSL_MODE_RELEASE_BUFFERS)
            // Resumption uses stateless tickets (TLS 1.3 and 1.2), sealed with this context's keys,
            // so a reload (FLUSH SSL) ends them. A server-side cache would only add memory and a
            // periodic sweep (OPENSSL_LH_doall in the P3 profile).
            _ = copenssl_SSL_CTX_set_session_cache_mode(context, Int(SSL_SESS_CACHE_OFF))
            // A client certificate must still verify when its session is resumed (see the shim).
            _ = copenssl_SSL_CTX_reverify_resumed_client_certificates(context)
            // The secrets a kernel TLS handover needs, for connections that follow it (KernelTLSTracker).
            _ = copenssl_SSL_CTX_set_ktls_keylog(context)
            try TLSCipherPolicy.applyToServer(cipher: settings.cipher, context: context)
            if let files = settings.certificateAndKey {
                try TLSContextFiles.server.loadCertificateAndKey(files, into: context)
            } else {
                try GeneratedCertificate.install(into: context)
            }
            try Self.loadTrust(settings, into: context)
            Self.buildCertificateChainOnce(context)
            // Ask for a client certificate without requiring one; a presented certificate that does not
            // verify aborts the handshake (no verify callback), exactly as MariaDB's acceptor.
            SSL_CTX_set_verify(context, SSL_VERIFY_PEER | SSL_VERIFY_CLIENT_ONCE, nil)
            let sessionContext = Array("mariadb-tls-proxy".utf8)
            _ = SSL_CTX_set_session_id_context(context, sessionContext, UInt32(sessionContext.count))
        } catch {
            SSL_CTX_free(context)
            throw error
        }
        let leaf = SSL_CTX_get0_certificate(context)
        self.certificates = CertificateValidity.loaded(in: context, listCAs: settings.caPath != nil)
        self.certificateSHA256 = leaf.map(SHA256Digest.certificateFingerprint) ?? []
        self.certificateIsGenerated = settings.generatesCertificate
    }

    deinit {
        SSL_CTX_free(context)
    }

    /// Creates the per-connection `SSL` object (server side).
    func makeSSL() -> OpaquePointer? {
        SSL_new(context)
    }

    // MARK: - Building blocks, in MariaDB's order

    private static func applyProtocolVersions(
        _ versions: Set<TLSProtocolVersion>,
        to context: OpaquePointer
    ) throws(TLSConfigurationError) {
        guard !versions.isEmpty else {
            throw TLSConfigurationError(
                option: "tls_version",
                detail: "no TLS version enabled",
                mariaDBReason: "Unknown TLS version"
            )
        }
        // MariaDB maps the set to SSL_OP_NO_* bits for every version not listed.
        var options: UInt64 = 0
        if !versions.contains(.tls1_0) { options |= copenssl_SSL_OP_NO_TLSv1 }
        if !versions.contains(.tls1_1) { options |= copenssl_SSL_OP_NO_TLSv1_1 }
        if !versions.contains(.tls1_2) { options |= copenssl_SSL_OP_NO_TLSv1_2 }
        if !versions.contains(.tls1_3) { options |= copenssl_SSL_OP_NO_TLSv1_3 }
        _ = copenssl_SSL_CTX_set_options(context, options)
    }

    private static func loadTrust(_ settings: TLSSettings, into context: OpaquePointer) throws(TLSConfigurationError) {
        try TLSContextFiles.server.loadVerifyLocations(
            caPath: settings.caPath,
            caDirectory: settings.caDirectory,
            into: context
        )
        // Tell clients which CAs we accept, so they pick the right certificate.
        if let ca = settings.caPath, let names = SSL_load_client_CA_file(ca) {
            SSL_CTX_set_client_CA_list(context, names)
        }
        OpenSSLErrorQueue.clear()
        guard settings.crlPath != nil || settings.crlDirectory != nil else { return }
        if let crl = settings.crlPath {
            try TLSContextFiles.checkReadable(crl, option: "ssl_crl", reason: "SSL_CTX_set_default_verify_paths failed")
        }
        if let dir = settings.crlDirectory { try TLSContextFiles.checkDirectory(dir, option: "ssl_crlpath") }
        guard let store = SSL_CTX_get_cert_store(context),
            X509_STORE_load_locations(store, settings.crlPath, settings.crlDirectory) == 1
        else {
            throw TLSConfigurationError(
                option: settings.crlPath != nil ? "ssl_crl" : "ssl_crlpath",
                detail:
                    "cannot load CRLs from '\(settings.crlPath ?? settings.crlDirectory ?? "")': \(OpenSSLErrorQueue.drainedDescription(fallback: "no CRL found"))",
                mariaDBReason: "SSL_CTX_set_default_verify_paths failed"
            )
        }
        X509_STORE_set_flags(store, UInt(X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL))
    }

    /// A certificate file without intermediates makes OpenSSL build the chain it sends from the
    /// trust store on every handshake (an X509_verify_cert per login, file lookups with ssl_capath
    /// or the system store). Building it once here sends the same chain — verification errors are
    /// ignored as OpenSSL's per-handshake build ignores them — and a reload builds it anew.
    private static func buildCertificateChainOnce(_ context: OpaquePointer) {
        guard copenssl_SSL_CTX_chain_cert_count(context) < 0 else { return }  // the file had intermediates
        _ = copenssl_SSL_CTX_build_cert_chain(
            context,
            SSL_BUILD_CHAIN_FLAG_IGNORE_ERROR | SSL_BUILD_CHAIN_FLAG_CLEAR_ERROR
        )
        OpenSSLErrorQueue.clear()
    }
}
