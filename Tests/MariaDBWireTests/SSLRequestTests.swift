import NIOCore
import Testing

@testable import MariaDBWire

@Suite struct SSLRequestTests {
    static let opensslPayload = hex("85 ae 7f 00 00 00 00 01 21") + [UInt8](repeating: 0, count: 23)

    @Test func parsesOpenSSLSClientRequest() throws {
        let payload = buffer(Self.opensslPayload)
        #expect(payload.readableBytes == 32)
        #expect(ClientFirstPacket.requestsTLS(payload))
        let request = try SSLRequest.decode(payload)
        #expect(request.capabilities == CapabilityFlags(lower: 0x007F_AE85))
        #expect(
            request.capabilities.isSuperset(of: [.clientMySQL, .ssl, .protocol41, .secureConnection, .transactions])
        )
        #expect(request.maxPacketSize == 0x0100_0000)
        #expect(request.characterSet == 0x21)
        #expect(bytes(request.encode()) == Self.opensslPayload)
        #expect(ClientFirstPacket.capabilities(of: payload) == request.capabilities)
    }

    @Test func roundTripWithMariaDBExtendedCapabilities() throws {
        let request = SSLRequest(
            capabilities: CapabilityFlags(lower: 0x01BE_AE8C, extended: 0x1D),
            maxPacketSize: 0x4000_0000,
            characterSet: 45
        )
        let encoded = request.encode()
        #expect(encoded.readableBytes == 32)
        #expect(bytes(encoded).suffix(4) == [0x1D, 0, 0, 0])
        #expect(try SSLRequest.decode(encoded) == request)
        #expect(ClientFirstPacket.capabilities(of: encoded) == request.capabilities)
    }

    @Test func extendedWordIgnoredWhenClientMySQLIsSet() throws {
        var payload = Self.opensslPayload
        payload[28] = 0x1D
        let request = try SSLRequest.decode(buffer(payload))
        #expect(request.capabilities.extendedWord == 0)
    }

    @Test func longerPacketIsAcceptedAndItsTailIgnored() throws {
        let payload = buffer(Self.opensslPayload + ascii("root") + [0])
        #expect(try SSLRequest.decode(payload).capabilities == CapabilityFlags(lower: 0x007F_AE85))
        #expect(ClientFirstPacket.requestsTLS(payload))
    }

    @Test func everyTruncationThrowsAndIsNotATLSRequest() {
        for length in 0..<32 {
            let prefix = buffer(Array(Self.opensslPayload[..<length]))
            #expect(throws: WireError.self) { try SSLRequest.decode(prefix) }
            #expect(!ClientFirstPacket.requestsTLS(prefix))
        }
    }

    @Test func handshakeResponseWithoutSSLIsNotATLSRequest() {
        let response = HandshakeResponse(
            capabilities: [.protocol41, .secureConnection, .pluginAuth],
            username: "root",
            authResponse: Array(repeating: 1, count: 20),
            authPluginName: "mysql_native_password"
        )
        let payload = response.encode()
        #expect(!ClientFirstPacket.requestsTLS(payload))
        #expect(throws: WireError.malformed("ssl request: CLIENT_SSL not set")) { try SSLRequest.decode(payload) }
        #expect(ClientFirstPacket.capabilities(of: payload) == [.protocol41, .secureConnection, .pluginAuth])
    }

    @Test func pre41ClientNeedsOnlyTwoBytes() throws {
        // caps 0x0805: CLIENT_MYSQL | LONG_FLAG | SSL, no PROTOCOL_41.
        #expect(ClientFirstPacket.requestsTLS(buffer([0x05, 0x08])))
        #expect(!ClientFirstPacket.requestsTLS(buffer([0x05])))
        #expect(!ClientFirstPacket.requestsTLS(buffer([0x05, 0x00])))
        let request = try SSLRequest.decode(buffer([0x05, 0x08, 0x00, 0x00, 0x01]))
        #expect(request.capabilities == [.clientMySQL, .longFlag, .ssl])
        #expect(request.maxPacketSize == 0x01_0000)
        #expect(request.characterSet == 0)
    }

    @Test func shortProtocol41PacketIsRejected() {
        let payload = buffer(Array(Self.opensslPayload.prefix(31)))
        #expect(ClientFirstPacket.capabilities(of: payload) == nil)
        #expect(throws: WireError.malformed("ssl request: 31 bytes, PROTOCOL_41 needs 32")) {
            try SSLRequest.decode(payload)
        }
    }
}
