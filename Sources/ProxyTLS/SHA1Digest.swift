import COpenSSL

/// SHA-1 through OpenSSL's EVP interface: what mysql_native_password is built from.
public enum SHA1Digest {
    /// The 20-byte digest of `bytes`.
    public static func hash(_ bytes: [UInt8]) -> [UInt8] {
        SHA256Digest.evpDigest(bytes, EVP_sha1(), length: 20)
    }
}
