import Testing

@testable import ProxyTLS

/// TLS 1.3 traffic secret → record key and IV, against RFC 8448 §3 (Simple 1-RTT Handshake).
@Suite struct KernelTLSKeyScheduleTests {
    static func bytes(_ hex: String) -> [UInt8] {
        var result: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            result.append(UInt8(hex[index..<next], radix: 16)!)
            index = next
        }
        return result
    }

    let aes128 = KernelTLSCipher.tls13(protocolID: 0x1301)!

    @Test func hkdfLabelIsLengthThenPrefixedLabelThenEmptyContext() {
        #expect(
            KernelTLSKeySchedule.hkdfLabel("key", length: 16) == [0x00, 0x10, 0x09] + Array("tls13 key".utf8) + [0x00]
        )
        #expect(
            KernelTLSKeySchedule.hkdfLabel("iv", length: 12) == [0x00, 0x0C, 0x08] + Array("tls13 iv".utf8) + [0x00]
        )
    }

    @Test func serverApplicationTrafficSecretGivesRFC8448Keys() throws {
        let secret = Self.bytes("a11af9f05531f856ad47116b45a950328204b4f44bfb6b3a4b4f1f3fcb631643")
        let keys = try #require(KernelTLSKeySchedule.trafficKeys(secret: secret, cipher: aes128))
        #expect(keys.key == Self.bytes("9f02283b6c9c07efc26bb9f2ac92e356"))
        #expect(keys.iv == Self.bytes("cf782b88dd83549aadf1e984"))
    }

    @Test func clientApplicationTrafficSecretGivesRFC8448Keys() throws {
        let secret = Self.bytes("9e40646ce79a7f9dc05af8889bce6552875afa0b06df0087f792ebb7c17504a5")
        let keys = try #require(KernelTLSKeySchedule.trafficKeys(secret: secret, cipher: aes128))
        #expect(keys.key == Self.bytes("17422dda596ed5d9acd890e3c63f5051"))
        #expect(keys.iv == Self.bytes("5b78923dee08579033e523d9"))
    }

    @Test func serverHandshakeTrafficSecretGivesRFC8448Keys() throws {
        let secret = Self.bytes("b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38")
        let keys = try #require(KernelTLSKeySchedule.trafficKeys(secret: secret, cipher: aes128))
        #expect(keys.key == Self.bytes("3fce516009c21727d0f2e4e86ee403bc"))
        #expect(keys.iv == Self.bytes("5d313eb2671276ee13000b30"))
    }

    @Test func aSecretOfTheWrongLengthForTheSuiteGivesNoKeys() {
        let sha256Secret = [UInt8](repeating: 1, count: 32)
        #expect(
            KernelTLSKeySchedule.trafficKeys(secret: sha256Secret, cipher: KernelTLSCipher.tls13(protocolID: 0x1302)!)
                == nil
        )
    }

    @Test func onlyTheSuitesTheKernelRunsAreTaken() {
        #expect(KernelTLSCipher.tls13(protocolID: 0x1301)?.keyLength == 16)
        #expect(KernelTLSCipher.tls13(protocolID: 0x1302)?.digest == "SHA384")
        #expect(KernelTLSCipher.tls13(protocolID: 0x1303)?.keyLength == 32)
        #expect(KernelTLSCipher.tls13(protocolID: 0x1304) == nil)  // AES-128-CCM
        #expect(KernelTLSCipher.tls13(protocolID: 0xC02F) == nil)  // a TLS 1.2 suite
    }
}
