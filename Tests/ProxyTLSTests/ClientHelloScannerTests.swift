import NIOCore
import Testing

@testable import ProxyTLS

/// The `max_handshakes` slot is asked for only once the whole ClientHello is in.
@Suite struct ClientHelloScannerTests {
    /// One handshake record holding a ClientHello message of `bodyLength` bytes.
    private func hello(bodyLength: Int, recordSplit: Int? = nil) -> [UInt8] {
        let message: [UInt8] =
            [1, UInt8(bodyLength >> 16), UInt8((bodyLength >> 8) & 0xFF), UInt8(bodyLength & 0xFF)]
            + [UInt8](repeating: 0xAB, count: bodyLength)
        let chunks: [ArraySlice<UInt8>]
        if let split = recordSplit {
            chunks = [message[..<split], message[split...]]
        } else {
            chunks = [message[...]]
        }
        return chunks.flatMap { chunk in [22, 3, 1, UInt8(chunk.count >> 8), UInt8(chunk.count & 0xFF)] + Array(chunk) }
    }

    private func feedByteByByte(_ bytes: [UInt8]) -> [Bool] {
        var scanner = ClientHelloScanner()
        return bytes.map { scanner.feed(ByteBuffer(bytes: [$0])) }
    }

    @Test func completeExactlyAtTheLastByte() {
        let bytes = hello(bodyLength: 512)
        let progress = feedByteByByte(bytes)
        #expect(progress.dropLast().allSatisfy { !$0 })
        #expect(progress.last == true)
    }

    @Test func aClientHelloSpanningTwoRecords() {
        let bytes = hello(bodyLength: 300, recordSplit: 100)
        let progress = feedByteByByte(bytes)
        #expect(progress.dropLast().allSatisfy { !$0 })
        #expect(progress.last == true)
    }

    @Test func halfAClientHelloIsNotComplete() {
        var scanner = ClientHelloScanner()
        let bytes = hello(bodyLength: 1500)
        let first = scanner.feed(ByteBuffer(bytes: bytes.prefix(bytes.count / 2)))
        let second = scanner.feed(ByteBuffer(bytes: bytes[(bytes.count / 2)..<(bytes.count - 1)]))
        let last = scanner.feed(ByteBuffer(bytes: bytes.suffix(1)))
        #expect(!first && !second && last)
        #expect(scanner.bytesSeen == bytes.count)
    }

    @Test(arguments: [
        [UInt8]([0x47, 0x45, 0x54, 0x20]),  // "GET ": not a TLS record
        [21, 3, 3, 0, 2, 2, 40],  // an alert record
        [0x80, 0x2E, 0x01],  // SSLv2-style hello
        [22, 3, 1, 0x48, 0x01],  // a record longer than TLS allows
        [22, 3, 1, 0, 4, 2, 0, 0, 0],  // a handshake message that is not a ClientHello
        [22, 3, 1, 0, 4, 1, 0xFF, 0xFF, 0xFF],  // a ClientHello longer than OpenSSL accepts
    ])
    func notAClientHelloGoesToOpenSSLAtOnce(bytes: [UInt8]) {
        var scanner = ClientHelloScanner()
        let complete = scanner.feed(ByteBuffer(bytes: bytes))
        #expect(complete)
    }

    @Test func bytesAfterCompletionAreCounted() {
        var scanner = ClientHelloScanner()
        let first = scanner.feed(ByteBuffer(bytes: hello(bodyLength: 10) + [1, 2, 3]))
        let second = scanner.feed(ByteBuffer(bytes: [4, 5]))
        #expect(first && second)
        #expect(scanner.bytesSeen == 9 + 10 + 5)
    }
}
