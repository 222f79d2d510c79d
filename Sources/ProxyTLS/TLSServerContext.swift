import COpenSSL
import FoundationEssentials
import Glibc
import ProxyConfiguration

/// One immutable OpenSSL server context (`SSL_CTX`), built from `TLSSettings` the way MariaDB's
/// `new_VioSSLAcceptorFd()` builds its acceptor.
///
/// Safety: fully configured in `init` and never mutated after it is published, so sharing it
/// between event-loop threads that only call `SSL_new` on it is safe (openssl-threads(7)).
/// Connections hold a strong reference, so a reload that replaces the context never frees one
/// still in use; OpenSSL's own refcount keeps the `SSL_CTX` alive for each `SSL` as well.
public final class TLSServerContext: @unchecked Sendable {
    let context: OpaquePointer

    /// The leaf certificate's subject in OpenSSL's one-line form, for logs.
    public let certificateSubject: String
    /// The leaf certificate's notAfter.
    public let certificateNotAfter: Date?
    /// The server certificate and the `ssl_ca` certificates, for the expiry checks and metric.
    public let certificates: [CertificateValidity]
    /// SHA-256 of the leaf certificate's DER, for the zero-configuration TLS proof of 11.4+
    /// clients (sql/sql_acl.cc make_ssl_info() hashes the server's own leaf the same way).
    public let certificateSHA256: [UInt8]
    /// The certificate was generated in memory (no ssl_cert/ssl_key), see ``GeneratedCertificate``.
    public let certificateIsGenerated: Bool

    /// Builds and validates a context. Every failure names the option and the file.
    public init(settings: TLSSettings) throws(TLSConfigurationError) {
        let certificatePath = settings.certificatePath ?? settings.privateKeyPath
        let keyPath = settings.privateKeyPath ?? settings.certificatePath
        OpenSSLErrorQueue.clear()
        guard let context = SSL_CTX_new(TLS_server_method()) else {
            throw TLSConfigurationError(option: "ssl_cert", detail: "SSL_CTX_new failed: \(OpenSSLErrorQueue.drainedDescription(fallback: "unknown error"))", mariaDBReason: "SSL_CTX_new failed")
        }
        self.context = context
        do {
            try Self.applyProtocolVersions(settings.versions, to: context)
            _ = copenssl_SSL_CTX_set_options(
                context,
                copenssl_SSL_OP_NO_SSLv3 | copenssl_SSL_OP_NO_COMPRESSION | copenssl_SSL_OP_NO_RENEGOTIATION
                    | copenssl_SSL_OP_CIPHER_SERVER_PREFERENCE
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
            try Self.applyCipher(settings.cipher, to: context)
            if let certificatePath, let keyPath {
                try Self.loadCertificateAndKey(certificatePath: certificatePath, keyPath: keyPath, into: context)
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
        self.certificateSubject = leaf.map { X509Name.oneLine(X509_get_subject_name($0)) } ?? ""
        self.certificateNotAfter = leaf.flatMap { X509Time.date(X509_get0_notAfter($0)) }
        self.certificates = CertificateValidity.loaded(in: context, listCAs: settings.caPath != nil)
        self.certificateSHA256 = leaf.map(SHA256Digest.certificateFingerprint) ?? []
        self.certificateIsGenerated = certificatePath == nil
    }

    deinit {
        SSL_CTX_free(context)
    }

    /// Creates the per-connection `SSL` object (server side).
    func makeSSL() -> OpaquePointer? {
        SSL_new(context)
    }

    // MARK: - Building blocks, in MariaDB's order

    private static func applyProtocolVersions(_ versions: Set<TLSProtocolVersion>, to context: OpaquePointer) throws(TLSConfigurationError) {
        guard !versions.isEmpty else {
            throw TLSConfigurationError(option: "tls_version", detail: "no TLS version enabled", mariaDBReason: "Unknown TLS version")
        }
        // MariaDB maps the set to SSL_OP_NO_* bits for every version not listed.
        var options: UInt64 = 0
        if !versions.contains(.tls1_0) { options |= copenssl_SSL_OP_NO_TLSv1 }
        if !versions.contains(.tls1_1) { options |= copenssl_SSL_OP_NO_TLSv1_1 }
        if !versions.contains(.tls1_2) { options |= copenssl_SSL_OP_NO_TLSv1_2 }
        if !versions.contains(.tls1_3) { options |= copenssl_SSL_OP_NO_TLSv1_3 }
        _ = copenssl_SSL_CTX_set_options(context, options)
    }

    /// TLS ≤ 1.2 ciphers when `ssl_cipher` is not set: AEAD with forward secrecy only, strongest
    /// first (the server's order wins). TLS 1.3 suites are all AEAD with forward secrecy already.
    public static let defaultTLS12Ciphers = [
        "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384",
        "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305",
        "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256",
        "DHE-RSA-AES256-GCM-SHA384", "DHE-RSA-CHACHA20-POLY1305", "DHE-RSA-AES128-GCM-SHA256",
    ].joined(separator: ":")

    private static func applyCipher(_ cipher: String?, to context: OpaquePointer) throws(TLSConfigurationError) {
        guard let cipher, !cipher.isEmpty else {
            _ = SSL_CTX_set_cipher_list(context, defaultTLS12Ciphers)
            OpenSSLErrorQueue.clear()
            return
        }
        // As MariaDB: the one value goes to both the TLS 1.3 suites and the TLS ≤ 1.2 list; it is an error
        // only if both reject it (a TLS 1.2-only list leaves the TLS 1.3 suites at their defaults).
        let suitesOK = SSL_CTX_set_ciphersuites(context, cipher) == 1
        let listOK = SSL_CTX_set_cipher_list(context, cipher) == 1
        OpenSSLErrorQueue.clear()
        if !suitesOK && !listOK {
            throw TLSConfigurationError(option: "ssl_cipher", detail: "no cipher in '\(cipher)' is known to OpenSSL", mariaDBReason: "Failed to set ciphers to use")
        }
    }

    private static func loadCertificateAndKey(certificatePath: String, keyPath: String, into context: OpaquePointer) throws(TLSConfigurationError) {
        try checkReadable(certificatePath, option: "ssl_cert", reason: "Unable to get certificate")
        OpenSSLErrorQueue.clear()
        if SSL_CTX_use_certificate_chain_file(context, certificatePath) != 1 {
            throw TLSConfigurationError(
                option: "ssl_cert",
                detail: "cannot load a PEM certificate from '\(certificatePath)': \(OpenSSLErrorQueue.drainedDescription(fallback: "not a certificate"))",
                mariaDBReason: "Unable to get certificate")
        }
        try checkReadable(keyPath, option: "ssl_key", reason: "Unable to get private key")
        if SSL_CTX_use_PrivateKey_file(context, keyPath, SSL_FILETYPE_PEM) != 1 {
            let reason = OpenSSLErrorQueue.drainedDescription(fallback: "not a private key")
            if reason.contains("values mismatch") || reason.contains("key values mismatch") {
                throw TLSConfigurationError(
                    option: "ssl_key",
                    detail: "private key '\(keyPath)' does not match the certificate '\(certificatePath)'",
                    mariaDBReason: "Private key does not match the certificate public key")
            }
            throw TLSConfigurationError(
                option: "ssl_key",
                detail: "cannot load a PEM private key from '\(keyPath)': \(reason)",
                mariaDBReason: "Unable to get private key")
        }
        if SSL_CTX_check_private_key(context) != 1 {
            OpenSSLErrorQueue.clear()
            throw TLSConfigurationError(
                option: "ssl_key",
                detail: "private key '\(keyPath)' does not match the certificate '\(certificatePath)'",
                mariaDBReason: "Private key does not match the certificate public key")
        }
    }

    private static func loadTrust(_ settings: TLSSettings, into context: OpaquePointer) throws(TLSConfigurationError) {
        OpenSSLErrorQueue.clear()
        if settings.caPath != nil || settings.caDirectory != nil {
            if let ca = settings.caPath { try checkReadable(ca, option: "ssl_ca", reason: "SSL_CTX_set_default_verify_paths failed") }
            if let dir = settings.caDirectory { try checkDirectory(dir, option: "ssl_capath") }
            if SSL_CTX_load_verify_locations(context, settings.caPath, settings.caDirectory) != 1 {
                let option = settings.caPath != nil ? "ssl_ca" : "ssl_capath"
                throw TLSConfigurationError(
                    option: option,
                    detail: "cannot load CA certificates from '\(settings.caPath ?? settings.caDirectory ?? "")': \(OpenSSLErrorQueue.drainedDescription(fallback: "no certificates found"))",
                    mariaDBReason: "SSL_CTX_set_default_verify_paths failed")
            }
            // Tell clients which CAs we accept, so they pick the right certificate.
            if let ca = settings.caPath, let names = SSL_load_client_CA_file(ca) {
                SSL_CTX_set_client_CA_list(context, names)
            }
        } else if SSL_CTX_set_default_verify_paths(context) != 1 {
            throw TLSConfigurationError(option: "ssl_ca", detail: "cannot load the system's default CA paths", mariaDBReason: "SSL_CTX_set_default_verify_paths failed")
        }
        OpenSSLErrorQueue.clear()
        if settings.crlPath != nil || settings.crlDirectory != nil {
            if let crl = settings.crlPath { try checkReadable(crl, option: "ssl_crl", reason: "SSL_CTX_set_default_verify_paths failed") }
            if let dir = settings.crlDirectory { try checkDirectory(dir, option: "ssl_crlpath") }
            guard let store = SSL_CTX_get_cert_store(context),
                  X509_STORE_load_locations(store, settings.crlPath, settings.crlDirectory) == 1
            else {
                let option = settings.crlPath != nil ? "ssl_crl" : "ssl_crlpath"
                throw TLSConfigurationError(
                    option: option,
                    detail: "cannot load CRLs from '\(settings.crlPath ?? settings.crlDirectory ?? "")': \(OpenSSLErrorQueue.drainedDescription(fallback: "no CRL found"))",
                    mariaDBReason: "SSL_CTX_set_default_verify_paths failed")
            }
            X509_STORE_set_flags(store, UInt(X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL))
        }
    }

    /// A certificate file without intermediates makes OpenSSL build the chain it sends from the
    /// trust store on every handshake (an X509_verify_cert per login, file lookups with ssl_capath
    /// or the system store). Building it once here sends the same chain — verification errors are
    /// ignored as OpenSSL's per-handshake build ignores them — and a reload builds it anew.
    private static func buildCertificateChainOnce(_ context: OpaquePointer) {
        guard copenssl_SSL_CTX_chain_cert_count(context) < 0 else { return }  // the file had intermediates
        _ = copenssl_SSL_CTX_build_cert_chain(context, SSL_BUILD_CHAIN_FLAG_IGNORE_ERROR | SSL_BUILD_CHAIN_FLAG_CLEAR_ERROR)
        OpenSSLErrorQueue.clear()
    }

    static func checkReadable(_ path: String, option: String, reason: String) throws(TLSConfigurationError) {
        if access(path, R_OK) != 0 {
            let why = String(cString: strerror(errno))
            throw TLSConfigurationError(option: option, detail: "cannot read '\(path)': \(why)", mariaDBReason: reason)
        }
        var status = stat()
        if stat(path, &status) == 0, (status.st_mode & S_IFMT) == S_IFDIR {
            throw TLSConfigurationError(option: option, detail: "'\(path)' is a directory, expected a PEM file", mariaDBReason: reason)
        }
    }

    static func checkDirectory(_ path: String, option: String) throws(TLSConfigurationError) {
        var status = stat()
        if stat(path, &status) != 0 {
            let why = String(cString: strerror(errno))
            throw TLSConfigurationError(option: option, detail: "cannot read directory '\(path)': \(why)", mariaDBReason: "SSL_CTX_set_default_verify_paths failed")
        }
        if (status.st_mode & S_IFMT) != S_IFDIR {
            throw TLSConfigurationError(option: option, detail: "'\(path)' is not a directory", mariaDBReason: "SSL_CTX_set_default_verify_paths failed")
        }
    }
}
