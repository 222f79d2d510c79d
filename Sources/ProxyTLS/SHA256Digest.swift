import COpenSSL

/// SHA-256 through OpenSSL's EVP interface.
public enum SHA256Digest {
    /// The 32-byte digest of `bytes`.
    public static func hash(_ bytes: [UInt8]) -> [UInt8] {
        evpDigest(bytes, EVP_sha256(), length: 32)
    }

    /// `EVP_Digest` with `md`, whose digest is `length` bytes (shared with ``SHA1Digest``).
    static func evpDigest(_ bytes: [UInt8], _ md: OpaquePointer?, length expected: Int) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: expected)
        var length: UInt32 = 0
        let ok = bytes.withUnsafeBytes { input in
            EVP_Digest(input.baseAddress, input.count, &digest, &length, md, nil)
        }
        precondition(ok == 1 && Int(length) == expected, "EVP_Digest failed")
        return digest
    }

    /// The SHA-256 of a certificate's DER encoding (`X509_digest(cert, EVP_sha256())`, what
    /// `openssl x509 -fingerprint -sha256` prints).
    static func certificateFingerprint(_ certificate: OpaquePointer) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        guard X509_digest(certificate, EVP_sha256(), &digest, &length) == 1, length == 32 else { return [] }
        return digest
    }
}
