import COpenSSL

/// A TLS 1.3 cipher suite the Linux kernel can run (linux/tls.h), with what its key schedule needs.
struct KernelTLSCipher: Equatable, Sendable {
    /// `TLS_CIPHER_*` of linux/tls.h.
    let kernelCipher: CInt
    /// The AEAD key length in bytes (the IV is always 12).
    let keyLength: Int
    /// The suite's hash, by OpenSSL name, for HKDF.
    let digest: String
    /// The length of its traffic secrets (the hash's output).
    let secretLength: Int

    /// The suite with this IANA id (`SSL_CIPHER_get_protocol_id`), or nil when the kernel path
    /// does not take it (the CCM suites, which OpenSSL does not enable by default).
    static func tls13(protocolID: UInt16) -> KernelTLSCipher? {
        switch protocolID {
        case 0x1301:
            KernelTLSCipher(
                kernelCipher: copenssl_TLS_CIPHER_AES_GCM_128,
                keyLength: 16,
                digest: "SHA256",
                secretLength: 32
            )
        case 0x1302:
            KernelTLSCipher(
                kernelCipher: copenssl_TLS_CIPHER_AES_GCM_256,
                keyLength: 32,
                digest: "SHA384",
                secretLength: 48
            )
        case 0x1303:
            KernelTLSCipher(
                kernelCipher: copenssl_TLS_CIPHER_CHACHA20_POLY1305,
                keyLength: 32,
                digest: "SHA256",
                secretLength: 32
            )
        default: nil
        }
    }
}

/// The TLS 1.3 record keys of a traffic secret (RFC 8446 §7.3): `key = HKDF-Expand-Label(secret,
/// "key", "", key_length)`, `iv = HKDF-Expand-Label(secret, "iv", "", 12)`. OpenSSL derives the
/// same keys in tls13_derive_key/tls13_derive_iv; it does not export them, only the secrets
/// (through the key log callback), so the kernel's keys are derived here again.
enum KernelTLSKeySchedule {
    /// The TLS 1.3 per-record nonce length.
    static let ivLength = 12

    /// `HkdfLabel` (RFC 8446 §7.1): uint16 length, opaque label<7..255> = "tls13 " + label,
    /// opaque context<0..255>.
    static func hkdfLabel(_ label: String, context: [UInt8] = [], length: Int) -> [UInt8] {
        let fullLabel = Array("tls13 \(label)".utf8)
        return [UInt8(length >> 8), UInt8(length & 0xFF), UInt8(fullLabel.count)] + fullLabel + [UInt8(context.count)]
            + context
    }

    /// HKDF-Expand-Label with the suite's hash; nil if OpenSSL's HKDF fails.
    static func expandLabel(secret: [UInt8], label: String, length: Int, digest: String) -> [UInt8]? {
        let info = hkdfLabel(label, length: length)
        var output = [UInt8](repeating: 0, count: length)
        let ok = copenssl_hkdf_expand(digest, secret, secret.count, info, info.count, &output, length)
        return ok == 1 ? output : nil
    }

    /// The write key and IV of `secret` for `cipher`.
    static func trafficKeys(secret: [UInt8], cipher: KernelTLSCipher) -> (key: [UInt8], iv: [UInt8])? {
        guard secret.count == cipher.secretLength,
            let key = expandLabel(secret: secret, label: "key", length: cipher.keyLength, digest: cipher.digest),
            let iv = expandLabel(secret: secret, label: "iv", length: ivLength, digest: cipher.digest)
        else { return nil }
        return (key, iv)
    }
}
