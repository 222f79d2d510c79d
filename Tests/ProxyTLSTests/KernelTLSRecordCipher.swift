import COpenSSL

/// Seals and opens TLS 1.3 application-data records the way the kernel does, from a crypto_info
/// (linux/tls.h layout): nonce = write IV XOR the 64-bit sequence number, additional data = the
/// record header, inner plaintext = data + content type 23. Test-only.
struct TLS13RecordCipher {
    let cipher: OpaquePointer
    let key: [UInt8]
    let iv: [UInt8]
    private(set) var sequence: UInt64

    init?(cryptoInfo bytes: [UInt8]) {
        func bigEndian(_ slice: ArraySlice<UInt8>) -> UInt64 { slice.reduce(0) { $0 << 8 | UInt64($1) } }
        switch (bytes[2], bytes.count) {
        case (51, 40):
            (cipher, key, iv) = (EVP_aes_128_gcm(), Array(bytes[12..<28]), Array(bytes[28..<32] + bytes[4..<12]))
            sequence = bigEndian(bytes[32..<40])
        case (52, 56):
            (cipher, key, iv) = (EVP_aes_256_gcm(), Array(bytes[12..<44]), Array(bytes[44..<48] + bytes[4..<12]))
            sequence = bigEndian(bytes[48..<56])
        case (54, 56):
            (cipher, key, iv) = (EVP_chacha20_poly1305(), Array(bytes[16..<48]), Array(bytes[4..<16]))
            sequence = bigEndian(bytes[48..<56])
        default:
            return nil
        }
    }

    private func nonce() -> [UInt8] {
        var nonce = iv
        for index in 0..<8 { nonce[4 + index] ^= UInt8(truncatingIfNeeded: sequence >> (56 - 8 * UInt64(index))) }
        return nonce
    }

    /// One record carrying `data`.
    mutating func seal(_ data: [UInt8]) -> [UInt8] {
        let inner = data + [23]
        let length = inner.count + 16
        let header: [UInt8] = [23, 3, 3, UInt8(length >> 8), UInt8(length & 0xFF)]
        let context = EVP_CIPHER_CTX_new()!
        defer { EVP_CIPHER_CTX_free(context) }
        var out = [UInt8](repeating: 0, count: inner.count + 32)
        var tag = [UInt8](repeating: 0, count: 16)
        var count: Int32 = 0
        _ = EVP_EncryptInit_ex(context, cipher, nil, key, nonce())
        _ = EVP_EncryptUpdate(context, nil, &count, header, Int32(header.count))
        _ = EVP_EncryptUpdate(context, &out, &count, inner, Int32(inner.count))
        var final: Int32 = 0
        _ = EVP_EncryptFinal_ex(context, &out[Int(count)], &final)
        _ = EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_AEAD_GET_TAG, 16, &tag)
        sequence += 1
        return header + out.prefix(inner.count) + tag
    }

    /// The data of the first record in `record`, or nil when it does not authenticate.
    mutating func open(_ record: [UInt8]) -> [UInt8]? {
        guard record.count >= 5 + 17 else { return nil }
        let length = Int(record[3]) << 8 | Int(record[4])
        guard record.count >= 5 + length else { return nil }
        let header = Array(record[0..<5])
        let body = Array(record[5..<(5 + length - 16)])
        var tag = Array(record[(5 + length - 16)..<(5 + length)])
        let context = EVP_CIPHER_CTX_new()!
        defer { EVP_CIPHER_CTX_free(context) }
        var out = [UInt8](repeating: 0, count: body.count + 32)
        var count: Int32 = 0
        _ = EVP_DecryptInit_ex(context, cipher, nil, key, nonce())
        _ = EVP_DecryptUpdate(context, nil, &count, header, Int32(header.count))
        _ = EVP_DecryptUpdate(context, &out, &count, body, Int32(body.count))
        _ = EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_AEAD_SET_TAG, 16, &tag)
        var final: Int32 = 0
        guard EVP_DecryptFinal_ex(context, &out[Int(count)], &final) == 1 else { return nil }
        sequence += 1
        var inner = Array(out.prefix(body.count))
        while inner.last == 0 { inner.removeLast() }
        guard inner.popLast() == 23 else { return nil }
        return inner
    }
}
