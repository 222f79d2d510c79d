import COpenSSL

/// The kernel's `crypto_info` for one direction of a TLS 1.3 session (`struct
/// tls12_crypto_info_aes_gcm_128` and its siblings in linux/tls.h), as the bytes passed to
/// `setsockopt(SOL_TLS, TLS_TX or TLS_RX)`: version, cipher, the write IV (split into salt and
/// iv for AES-GCM), the key, and the sequence number of the next record.
struct KernelTLSCryptoInfo {
    private(set) var bytes: [UInt8]

    /// Nil when the lengths do not fit the cipher.
    init?(cipher: KernelTLSCipher, key: [UInt8], iv: [UInt8], sequence: UInt64) {
        var buffer = [UInt8](repeating: 0, count: 64)
        let capacity = buffer.count
        let size = buffer.withUnsafeMutableBufferPointer { out in
            copenssl_ktls_crypto_info(
                out.baseAddress,
                capacity,
                copenssl_TLS_1_3_VERSION,
                cipher.kernelCipher,
                key,
                key.count,
                iv,
                iv.count,
                sequence
            )
        }
        guard size > 0 else { return nil }
        buffer.removeLast(capacity - size)
        self.bytes = buffer
    }

    /// The keys are overwritten once the kernel has them.
    mutating func cleanse() {
        for index in bytes.indices { bytes[index] = 0 }
    }
}
