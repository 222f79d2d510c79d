import COpenSSL

/// Which TLS 1.3 suites, TLS ≤ 1.2 ciphers and key-exchange groups the proxy offers and prefers,
/// and how MariaDB's `ssl_cipher` replaces them (docs/configuration.md, `ssl_cipher`).
///
/// The negotiated suite is part of access control (`REQUIRE CIPHER`, acl_check_ssl), so a client
/// must get the suite MariaDB 10.11 would give it: the TLS 1.3 suites stay in OpenSSL's default
/// order, which is MariaDB's. AES-128-GCM first would cost less per record (docs/benchmarks.md,
/// "TLS record path") but would admit `REQUIRE CIPHER 'TLS_AES_128_GCM_SHA256'` accounts that
/// MariaDB refuses to the same client; an operator who wants it sets `ssl_cipher`.
enum TLSCipherPolicy {
    /// OpenSSL's (and so MariaDB's) TLS 1.3 suites, in its order.
    static let defaultTLS13Suites = "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256"

    /// TLS ≤ 1.2 ciphers when `ssl_cipher` is not set: AEAD with forward secrecy only, strongest
    /// first (the server's order wins).
    static let defaultTLS12Ciphers = [
        "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384",
        "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305",
        "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256",
        "DHE-RSA-AES256-GCM-SHA384", "DHE-RSA-CHACHA20-POLY1305", "DHE-RSA-AES128-GCM-SHA256",
    ].joined(separator: ":")

    /// Key-exchange groups, X25519 first (the cheapest, and what clients send a key share for
    /// first); then OpenSSL's own default order.
    static let groups = "X25519:P-256:X448:P-521:P-384:ffdhe2048:ffdhe3072:ffdhe4096:ffdhe6144:ffdhe8192"

    /// Server side: the defaults, the server's order wins, except that a client putting ChaCha20
    /// first (one without AES instructions, usually) gets ChaCha20 (`SSL_OP_PRIORITIZE_CHACHA`),
    /// as MariaDB, where the client's order wins, gives it. Then
    /// `ssl_cipher`, as MariaDB's new_VioSSLFd (vio/viosslfactories.c) applies it: first as TLS 1.3
    /// suites; only if OpenSSL finds none there, as the TLS ≤ 1.2 list; an error if neither takes it.
    /// So a TLS 1.3 value keeps the default TLS 1.2 list and a TLS 1.2 value the default suites.
    static func applyToServer(cipher: String?, context: OpaquePointer) throws(TLSConfigurationError) {
        _ = copenssl_SSL_CTX_set_options(
            context,
            copenssl_SSL_OP_CIPHER_SERVER_PREFERENCE | copenssl_SSL_OP_PRIORITIZE_CHACHA
        )
        try applyDefaults(to: context)
        guard let cipher, !cipher.isEmpty else { return }
        let taken = SSL_CTX_set_ciphersuites(context, cipher) == 1 || SSL_CTX_set_cipher_list(context, cipher) == 1
        OpenSSLErrorQueue.clear()
        if !taken {
            throw TLSConfigurationError(
                option: "ssl_cipher",
                detail: "no cipher in '\(cipher)' is known to OpenSSL",
                mariaDBReason: "Failed to set ciphers to use"
            )
        }
    }

    /// Client side (the backend connection): the same defaults, offered in this order (the
    /// backend's own `REQUIRE CIPHER` sees what a MariaDB client would negotiate).
    static func applyToClient(context: OpaquePointer) throws(TLSConfigurationError) {
        try applyDefaults(to: context)
    }

    private static func applyDefaults(to context: OpaquePointer) throws(TLSConfigurationError) {
        let ok =
            SSL_CTX_set_ciphersuites(context, defaultTLS13Suites) == 1
            && SSL_CTX_set_cipher_list(context, defaultTLS12Ciphers) == 1
            && copenssl_SSL_CTX_set1_groups_list(context, groups) == 1
        OpenSSLErrorQueue.clear()
        if !ok {
            throw TLSConfigurationError(
                option: "ssl_cipher",
                detail: "OpenSSL rejected the default ciphers or groups",
                mariaDBReason: "Failed to set ciphers to use"
            )
        }
    }
}
