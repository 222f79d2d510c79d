import COpenSSL

/// The certificate the proxy serves when no `ssl_cert`/`ssl_key` is configured, made in memory
/// at startup and at every reload as MariaDB 11.4+ does (vio/viosslfactories.c vio_keygen(),
/// vio_gencert()): self-signed, subject = issuer = `CN=MariaDB Server`, valid 10 years, signed
/// with SHA-256. Unlike MariaDB's it is X.509 v3 *with* a random serial and `basicConstraints
/// CA:FALSE` and `extendedKeyUsage serverAuth`, which strict TLS stacks expect, and it starts an
/// hour in the past so a client whose clock lags a little does not see it as not yet valid. The
/// key is RSA-2048, not MariaDB's RSA-4096: see docs/configuration.md, "Generated certificate".
///
/// Clients cannot verify it against a CA; 11.4+ clients accept it through the
/// zero-configuration TLS proof (docs/operations.md), others only with verification off.
enum GeneratedCertificate {
    static let subjectCommonName = "MariaDB Server"
    static let rsaBits: Int32 = 2048
    static let validDays = 3650
    static let backdateSeconds = 3600

    /// Makes a key and certificate and installs them in `context`.
    static func install(into context: OpaquePointer) throws(TLSConfigurationError) {
        OpenSSLErrorQueue.clear()
        guard let key = makeKey() else { throw failure("cannot generate an RSA key") }
        defer { EVP_PKEY_free(key) }
        guard let certificate = makeCertificate(key: key) else { throw failure("cannot make the certificate") }
        defer { X509_free(certificate) }
        guard SSL_CTX_use_certificate(context, certificate) == 1, SSL_CTX_use_PrivateKey(context, key) == 1 else {
            throw failure("cannot install the certificate")
        }
    }

    private static func failure(_ what: String) -> TLSConfigurationError {
        TLSConfigurationError(
            option: "ssl_cert",
            detail:
                "no ssl_cert/ssl_key configured and \(what) for TLS: \(OpenSSLErrorQueue.drainedDescription(fallback: "unknown error"))",
            mariaDBReason: "Unable to get certificate"
        )
    }

    private static func makeKey() -> OpaquePointer? {
        guard let keyContext = EVP_PKEY_CTX_new_id(EVP_PKEY_RSA, nil) else { return nil }
        defer { EVP_PKEY_CTX_free(keyContext) }
        var key: OpaquePointer?
        guard EVP_PKEY_keygen_init(keyContext) == 1,
            EVP_PKEY_CTX_set_rsa_keygen_bits(keyContext, rsaBits) == 1,
            EVP_PKEY_keygen(keyContext, &key) == 1
        else { return nil }
        return key
    }

    private static func makeCertificate(key: OpaquePointer) -> OpaquePointer? {
        guard let certificate = X509_new() else { return nil }
        let name = X509_get_subject_name(certificate)
        let built =
            X509_set_version(certificate, 2) == 1  // v3
            && setRandomSerial(certificate)
            && X509_gmtime_adj(X509_getm_notBefore(certificate), -backdateSeconds) != nil
            && X509_gmtime_adj(X509_getm_notAfter(certificate), validDays * 86_400) != nil
            && X509_set_pubkey(certificate, key) == 1
            && X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, subjectCommonName, -1, -1, 0) == 1
            && X509_set_issuer_name(certificate, name) == 1
            && addExtension(certificate, NID_basic_constraints, "critical,CA:FALSE")
            && addExtension(certificate, NID_ext_key_usage, "serverAuth")
            && addExtension(certificate, NID_subject_key_identifier, "hash")
            && X509_sign(certificate, key, EVP_sha256()) > 0
        guard built else {
            X509_free(certificate)
            return nil
        }
        return certificate
    }

    /// A random positive 127-bit serial with its top bit set (16 bytes, RFC 5280 4.1.2.2).
    private static func setRandomSerial(_ certificate: OpaquePointer) -> Bool {
        guard let number = BN_new() else { return false }
        defer { BN_free(number) }
        return BN_rand(number, 127, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ANY) == 1
            && BN_to_ASN1_INTEGER(number, X509_get_serialNumber(certificate)) != nil
    }

    private static func addExtension(_ certificate: OpaquePointer, _ nid: Int32, _ value: String) -> Bool {
        var context = X509V3_CTX()
        X509V3_set_ctx(&context, certificate, certificate, nil, nil, 0)
        guard let ext = X509V3_EXT_conf_nid(nil, &context, nid, value) else { return false }
        defer { X509_EXTENSION_free(ext) }
        return X509_add_ext(certificate, ext, -1) == 1
    }
}
