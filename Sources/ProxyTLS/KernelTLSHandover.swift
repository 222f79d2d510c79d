/// Whether a TLS session can move to the kernel at this moment, decided from a snapshot of the
/// connection (pure, so every reason to stay in user space is unit-tested).
///
/// A handover is exact only if the kernel continues precisely where OpenSSL stops, in both
/// directions: the next byte the socket delivers is the start of a record under the client's
/// application key and nothing of it was read into user space; every record OpenSSL encrypted
/// has left the process; and the sequence numbers are the counts of records under the current
/// keys. Anything else (a partial record in the BIO, data OpenSSL holds, unsent ciphertext, a
/// KeyUpdate, TLS 1.2) keeps the connection in user space: a wrong guess would corrupt the session.
struct KernelTLSHandover {
    /// `SSL_version`: only TLS 1.3 (0x0304) is handed over.
    var protocolVersion: Int32
    /// `SSL_CIPHER_get_protocol_id` of the negotiated suite.
    var cipherProtocolID: UInt16
    /// A max_fragment_length extension was negotiated (the kernel always fills records to 16 KiB).
    var maxFragmentLengthNegotiated: Bool
    /// A KeyUpdate was seen, or a key log line did not parse.
    var disqualified: Bool
    /// CLIENT_TRAFFIC_SECRET_0 and SERVER_TRAFFIC_SECRET_0 (empty until seen).
    var clientSecret: [UInt8]
    var serverSecret: [UInt8]
    /// Records read under the client's application key, written under the server's.
    var recordsRead: UInt64
    var recordsWritten: UInt64
    /// Ciphertext received that OpenSSL has not read.
    var unreadCiphertext: Int
    /// `SSL_has_pending`: a partial record or decrypted data inside OpenSSL.
    var opensslHasPending: Bool
    /// Ciphertext OpenSSL wrote that the handler has not passed to the channel.
    var unsentCiphertext: Bool
    /// Bytes the channel holds that the socket has not taken (nil: not known).
    var channelBufferedBytes: Int?
    /// Plaintext writes waiting in the TLS handler.
    var pendingWrites: Bool

    enum Decision {
        case handOver(transmit: KernelTLSCryptoInfo, receive: KernelTLSCryptoInfo)
        case stayInUserSpace(String)
    }

    func decide() -> Decision {
        guard protocolVersion == 0x0304 else { return .stayInUserSpace("not TLS 1.3") }
        guard let cipher = KernelTLSCipher.tls13(protocolID: cipherProtocolID) else {
            return .stayInUserSpace(
                "cipher suite 0x\(String(cipherProtocolID, radix: 16)) not supported by the kernel path"
            )
        }
        guard !maxFragmentLengthNegotiated else { return .stayInUserSpace("max_fragment_length negotiated") }
        guard !disqualified else { return .stayInUserSpace("key update or unreadable key log line") }
        guard clientSecret.count == cipher.secretLength, serverSecret.count == cipher.secretLength else {
            return .stayInUserSpace("application traffic secrets not seen")
        }
        guard unreadCiphertext == 0, !opensslHasPending else {
            return .stayInUserSpace("received ciphertext not fully read")
        }
        guard !unsentCiphertext, !pendingWrites else {
            return .stayInUserSpace("writes not yet encrypted or passed on")
        }
        guard channelBufferedBytes == 0 else { return .stayInUserSpace("ciphertext still buffered in the channel") }
        guard let serverKeys = KernelTLSKeySchedule.trafficKeys(secret: serverSecret, cipher: cipher),
            let clientKeys = KernelTLSKeySchedule.trafficKeys(secret: clientSecret, cipher: cipher),
            let transmit = KernelTLSCryptoInfo(
                cipher: cipher,
                key: serverKeys.key,
                iv: serverKeys.iv,
                sequence: recordsWritten
            ),
            let receive = KernelTLSCryptoInfo(
                cipher: cipher,
                key: clientKeys.key,
                iv: clientKeys.iv,
                sequence: recordsRead
            )
        else { return .stayInUserSpace("key derivation failed") }
        return .handOver(transmit: transmit, receive: receive)
    }

    /// Overwrites the secrets.
    mutating func cleanse() {
        for index in clientSecret.indices { clientSecret[index] = 0 }
        for index in serverSecret.indices { serverSecret[index] = 0 }
    }
}
