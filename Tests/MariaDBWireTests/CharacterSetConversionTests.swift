import NIOCore
import Testing

@testable import MariaDBWire

/// User names are converted from the client's character set before the account lookup, as MariaDB does.
@Suite struct CharacterSetConversionTests {
    @Test func asciiIsTheSameInEveryCharacterSet() {
        #expect(CharacterSetConversion.toUTF8(Array("alice".utf8), collation: 8) == "alice")
        #expect(CharacterSetConversion.toUTF8(Array("alice".utf8), collation: 26) == "alice")
    }

    @Test func latin1IsWindows1252() {
        #expect(CharacterSetConversion.toUTF8([0x6A, 0x6F, 0x73, 0xE9], collation: 8) == "josé")
        #expect(CharacterSetConversion.toUTF8([0x80], collation: 47) == "€")
    }

    @Test func utf8IsValidatedNotGuessed() {
        #expect(CharacterSetConversion.toUTF8(Array("josé".utf8), collation: 45) == "josé")
        #expect(CharacterSetConversion.toUTF8(Array("josé".utf8), collation: 33) == "josé")
        #expect(CharacterSetConversion.toUTF8([0x6A, 0xE9], collation: 45) == nil)
    }

    @Test func otherCharacterSetsBeyondASCIIAreNotGuessed() {
        #expect(CharacterSetConversion.toUTF8([0x6A, 0xE9], collation: 26) == nil)  // cp1250
    }

    @Test func handshakeResponseConvertsLatin1Names() throws {
        var response = HandshakeResponse(capabilities: [.protocol41, .secureConnection, .pluginAuth], characterSet: 8, username: "x")
        var payload = response.encode()
        // Replace the user name "x" with latin1 "josé".
        let userOffset = payload.readerIndex + 32
        payload.setBytes([0x6A, 0x6F, 0x73, 0xE9, 0x00], at: userOffset)
        var rest = response.encode()
        rest.moveReaderIndex(forwardBy: 34)
        payload.moveWriterIndex(to: userOffset + 5)
        payload.writeBuffer(&rest)
        response = try HandshakeResponse.decode(payload, clientCapabilities: nil, serverCapabilities: [.protocol41, .secureConnection, .pluginAuth])
        #expect(response.username == "josé")
        #expect(response.usernameIsExact)
    }

    @Test func changeUserUsesThePacketCharacterSet() throws {
        var payload = ByteBuffer(bytes: [0x11, 0x6A, 0x6F, 0x73, 0xE9, 0x00, 0x00, 0x00, 0x08, 0x00])
        let latin1 = try ChangeUserRequest.decode(payload, capabilities: [.secureConnection], sessionCollation: 45)
        #expect(latin1.username == "josé")
        payload = ByteBuffer(bytes: [0x11, 0x6A, 0xE9, 0x00, 0x00, 0x00, 0x1A, 0x00])
        let cp1250 = try ChangeUserRequest.decode(payload, capabilities: [.secureConnection], sessionCollation: 45)
        #expect(!cp1250.usernameIsExact)
    }
}
