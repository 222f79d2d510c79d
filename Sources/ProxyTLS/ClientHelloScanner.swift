import NIOCore

/// Watches the first bytes of a TLS connection and says when the whole ClientHello has arrived,
/// without parsing it: TLS record headers (RFC 8446 §5.1) and the handshake message header
/// (type 1, 24-bit length, §4) are enough.
///
/// ``TLSServerHandler`` asks for a `max_handshakes` slot only then, so a client that sends half a
/// ClientHello and stalls costs no CPU and holds no slot. Anything that is not the start of a
/// ClientHello (another record type, an SSLv2-style hello, an oversized length) counts as complete
/// at once: OpenSSL then answers it with an alert, as it would without the scanner.
struct ClientHelloScanner {
    /// OpenSSL's limit for a ClientHello message (`CLIENT_HELLO_MAX_LENGTH`, ssl/statem).
    static let maximumMessageLength = 131_396
    /// The largest TLS record OpenSSL accepts (2^14 plus the allowed expansion).
    static let maximumRecordLength = 16_384 + 2_048

    private static let handshakeRecord: UInt8 = 22
    private static let clientHelloMessage: UInt8 = 1

    /// True once the ClientHello is complete (or the bytes are not a ClientHello at all).
    private(set) var isComplete = false
    /// Every byte fed so far.
    private(set) var bytesSeen = 0

    private var recordHeader: [UInt8] = []
    private var recordRemaining = 0
    private var messageHeader: [UInt8] = []
    private var messageRemaining: Int?

    /// Takes the next bytes from the network; returns ``isComplete``.
    @discardableResult
    mutating func feed(_ buffer: ByteBuffer) -> Bool {
        bytesSeen += buffer.readableBytes
        guard !isComplete else { return true }
        for byte in buffer.readableBytesView where consume(byte) {
            isComplete = true
            break
        }
        return isComplete
    }

    /// One byte; true when it completes the ClientHello (or rules it out).
    private mutating func consume(_ byte: UInt8) -> Bool {
        if recordRemaining == 0 {
            recordHeader.append(byte)
            if recordHeader.count == 1, byte != Self.handshakeRecord { return true }
            guard recordHeader.count == 5 else { return false }
            let length = Int(recordHeader[3]) << 8 | Int(recordHeader[4])
            recordHeader.removeAll(keepingCapacity: true)
            if length > Self.maximumRecordLength { return true }
            recordRemaining = length
            return false
        }
        recordRemaining -= 1
        guard let remaining = messageRemaining else {
            messageHeader.append(byte)
            if messageHeader.count == 1, byte != Self.clientHelloMessage { return true }
            guard messageHeader.count == 4 else { return false }
            let length = Int(messageHeader[1]) << 16 | Int(messageHeader[2]) << 8 | Int(messageHeader[3])
            if length == 0 || length > Self.maximumMessageLength { return true }
            messageRemaining = length
            return false
        }
        messageRemaining = remaining - 1
        return remaining == 1
    }
}
