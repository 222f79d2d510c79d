import COpenSSL

/// SHA-1 through OpenSSL's EVP interface: what mysql_native_password is built from.
public enum SHA1Digest {
    /// The 20-byte digest of `bytes`.
    public static func hash(_ bytes: [UInt8]) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: 20)
        var length: UInt32 = 0
        let ok = bytes.withUnsafeBytes { input in
            EVP_Digest(input.baseAddress, input.count, &digest, &length, EVP_sha1(), nil)
        }
        precondition(ok == 1 && length == 20, "EVP_Digest(SHA-1) failed")
        return digest
    }
}
