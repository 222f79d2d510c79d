import Testing

@testable import ProxyTLS

/// The bytes given to setsockopt(SOL_TLS) must be the kernel's structs (linux/tls.h): a 4-byte
/// header (version 0x0304 and the cipher, little-endian u16s) then the fields in the kernel's order.
@Suite struct KernelTLSCryptoInfoTests {
    let iv: [UInt8] = Array(0xA0...0xAB)

    @Test func aes128GCMIsHeaderIvKeySaltSequence() throws {
        let key: [UInt8] = Array(0x10...0x1F)
        let info = try #require(
            KernelTLSCryptoInfo(
                cipher: KernelTLSCipher.tls13(protocolID: 0x1301)!,
                key: key,
                iv: iv,
                sequence: 0x0102_0304_0506_0708
            )
        )
        #expect(info.bytes.count == 40)
        #expect(Array(info.bytes[0..<4]) == [0x04, 0x03, 51, 0])
        #expect(Array(info.bytes[4..<12]) == Array(iv[4..<12]))  // iv: the last 8 bytes of the write IV
        #expect(Array(info.bytes[12..<28]) == key)
        #expect(Array(info.bytes[28..<32]) == Array(iv[0..<4]))  // salt: the first 4
        #expect(Array(info.bytes[32..<40]) == [1, 2, 3, 4, 5, 6, 7, 8])  // rec_seq, big-endian
    }

    @Test func aes256GCMHasTheLongerKey() throws {
        let key: [UInt8] = Array(0x20...0x3F)
        let info = try #require(
            KernelTLSCryptoInfo(cipher: KernelTLSCipher.tls13(protocolID: 0x1302)!, key: key, iv: iv, sequence: 2)
        )
        #expect(info.bytes.count == 56)
        #expect(Array(info.bytes[0..<4]) == [0x04, 0x03, 52, 0])
        #expect(Array(info.bytes[4..<12]) == Array(iv[4..<12]))
        #expect(Array(info.bytes[12..<44]) == key)
        #expect(Array(info.bytes[44..<48]) == Array(iv[0..<4]))
        #expect(Array(info.bytes[48..<56]) == [0, 0, 0, 0, 0, 0, 0, 2])
    }

    @Test func chacha20Poly1305TakesTheWholeIVAndNoSalt() throws {
        let key: [UInt8] = Array(0x40...0x5F)
        let info = try #require(
            KernelTLSCryptoInfo(cipher: KernelTLSCipher.tls13(protocolID: 0x1303)!, key: key, iv: iv, sequence: 7)
        )
        #expect(info.bytes.count == 56)
        #expect(Array(info.bytes[0..<4]) == [0x04, 0x03, 54, 0])
        #expect(Array(info.bytes[4..<16]) == iv)
        #expect(Array(info.bytes[16..<48]) == key)
        #expect(Array(info.bytes[48..<56]) == [0, 0, 0, 0, 0, 0, 0, 7])
    }

    @Test func lengthsThatDoNotFitTheCipherAreRefused() {
        let aes128 = KernelTLSCipher.tls13(protocolID: 0x1301)!
        #expect(KernelTLSCryptoInfo(cipher: aes128, key: [UInt8](repeating: 0, count: 32), iv: iv, sequence: 0) == nil)
        #expect(
            KernelTLSCryptoInfo(
                cipher: aes128,
                key: [UInt8](repeating: 0, count: 16),
                iv: Array(iv[0..<8]),
                sequence: 0
            ) == nil
        )
    }

    @Test func cleansingZeroesTheKeys() throws {
        var info = try #require(
            KernelTLSCryptoInfo(
                cipher: KernelTLSCipher.tls13(protocolID: 0x1301)!,
                key: Array(0x10...0x1F),
                iv: iv,
                sequence: 1
            )
        )
        info.cleanse()
        #expect(info.bytes.allSatisfy { $0 == 0 })
    }

    @Test func theChannelDescriptorIsReadFromNIOsDescription() {
        #expect(KernelTLSSocket.describedDescriptor("SocketChannel { BaseSocket { fd=17 }, active = true }") == 17)
        #expect(KernelTLSSocket.describedDescriptor("EmbeddedChannel") == nil)
        #expect(KernelTLSSocket.describedDescriptor("fd=") == nil)
    }
}
