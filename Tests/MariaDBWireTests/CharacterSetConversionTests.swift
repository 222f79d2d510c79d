import NIOCore
import Testing

@testable import MariaDBWire

/// User names are converted from the client's character set before the account lookup, as MariaDB
/// does; where the proxy cannot reproduce the conversion it says so (inexact), and the character
/// sets MariaDB refuses as character_set_client are reported as refused.
@Suite struct CharacterSetConversionTests {
    /// `serverDefault` (the greeting's collation) defaults to the client's own.
    func convert(
        _ bytes: [UInt8],
        _ collation: UInt16?,
        serverDefault: UInt16? = nil
    ) -> CharacterSetConversion.Conversion {
        CharacterSetConversion.convertUsername(
            bytes,
            collation: collation,
            serverDefaultCollation: serverDefault ?? collation
        )
    }

    /// One collation id per character set MariaDB 10.11 ships: each set's default collation
    /// (information_schema.character_sets), except the refused UCS/UTF-16/32 family and swe7.
    static let asciiCompatibleDefaults: [UInt16] = [
        1, 3, 4, 6, 7, 8, 9, 11, 12, 13, 16, 18, 19, 22, 24, 25, 26, 28, 30, 32, 33, 36, 37, 38, 39, 40, 41, 45,
        51, 57, 59, 63, 92, 95, 97,
    ]

    @Test(arguments: asciiCompatibleDefaults)
    func asciiIsExactInEveryASCIICompatibleSet(collation: UInt16) {
        #expect(convert(ascii("a|b[c]{d}~@`\\"), collation) == .exact("a|b[c]{d}~@`\\"))
    }

    @Test func everyCharacterSetOf1011IsClassified() {
        let sets = Set((0...2000).compactMap { MariaDBCollations.characterSet(ofCollation: UInt16($0)) })
        #expect(sets.count == 40)
        #expect(sets.contains("swe7") && sets.contains("binary") && sets.contains("eucjpms"))
        #expect(MariaDBCollations.characterSet(ofCollation: 255) == nil)
        #expect(MariaDBCollations.characterSet(ofCollation: 1034) == "swe7")  // swe7_swedish_nopad_ci
    }

    @Test func swe7IsNotASCII() {
        // `|` is ö, `[` Ä, `]` Å, `\` Ö, `{` ä, `}` å, `~` ü, `@` É, backtick é, `^` Ü; 0x7F and 0x80+ become '?'.
        #expect(convert(ascii("a|b"), 10) == .exact("aöb"))
        #expect(convert(ascii("[\\]{}~@`^"), 82) == .exact("ÄÖÅäåüÉéÜ"))
        #expect(convert([0x61, 0x7F, 0xE4], 10) == .exact("a??"))
        #expect(convert(ascii("plain_name1"), 10) == .exact("plain_name1"))
        // The 2-byte COM_CHANGE_USER id of swe7_swedish_nopad_ci.
        #expect(convert(ascii("a|b"), 1034) == .exact("aöb"))
    }

    @Test func latin1IsWindows1252() {
        #expect(convert([0x6A, 0x6F, 0x73, 0xE9], 8) == .exact("josé"))
        #expect(convert([0x80], 47) == .exact("€"))
        #expect(convert([0x81, 0x8D], 8) == .exact("\u{81}\u{8D}"))
    }

    @Test func binaryTakesEachByteAsItsCodePoint() {
        // my_mb_wc_bin: UTF-8 "é" sent with the binary set is two characters, Ã and ©.
        #expect(convert(Array("josé".utf8), 63) == .exact("josÃ©"))
        #expect(convert([0x61, 0xE4], 63) == .exact("aä"))
    }

    @Test func utf8IsValidatedAndLimitedToTheBMP() {
        #expect(convert(Array("josé".utf8), 45) == .exact("josé"))
        #expect(convert(Array("josé".utf8), 33) == .exact("josé"))
        #expect(convert(Array("€中".utf8), 224) == .exact("€中"))
        #expect(!convert([0x6A, 0xE9], 45).isExact)
        // MariaDB turns a 4-byte character into '?' (utf8mb3 has no room for it): not guessed.
        #expect(!convert(Array("a😀b".utf8), 45).isExact)
        #expect(!convert(Array("a😀b".utf8), 33).isExact)
    }

    @Test func otherCharacterSetsBeyondASCIIAreNotGuessed() {
        for collation: UInt16 in [26, 13, 95, 1, 28, 51, 7, 12] {
            #expect(!convert([0x6A, 0xE9], collation).isExact, "collation \(collation)")
            // A lead byte followed by an ASCII-range trail byte (sjis 0x81 0x7C) is one character.
            #expect(!convert([0x81, 0x7C], collation).isExact, "collation \(collation)")
        }
    }

    @Test(arguments: [
        (UInt16(35), "ucs2"), (54, "utf16"), (56, "utf16le"), (60, "utf32"), (90, "ucs2"), (1152, "ucs2"),
    ])
    func ucsFamilyIsRefused(collation: UInt16, name: String) {
        #expect(convert(ascii("alice"), collation) == .refusedCharacterSet(name))
    }

    @Test func unknownCollationFallsBackToTheServerDefaultForASCIIOnly() {
        #expect(convert(ascii("a|b"), 250, serverDefault: 8) == .exact("a|b"))
        #expect(!convert([0x61, 0xE4], 250, serverDefault: 8).isExact)
        // A server whose default is swe7 converts the ASCII name as swe7.
        #expect(convert(ascii("a|b"), 250, serverDefault: 10) == .exact("aöb"))
        // No greeting collation known: ASCII only.
        #expect(convert(ascii("a|b"), 250, serverDefault: nil) == .exact("a|b"))
        #expect(!convert([0x61, 0xE4], 250, serverDefault: nil).isExact)
    }

    /// Without an id MariaDB uses its global character_set_client, which the greeting does not
    /// show: ASCII is exact (in swe7 as swe7), anything else is not.
    @Test func noCollationMeansTheBackendsClientCharacterSet() {
        #expect(!convert([0x61, 0xE4], nil, serverDefault: 8).isExact)
        #expect(!convert(Array("bé".utf8), nil, serverDefault: 45).isExact)
        #expect(convert(ascii("ab"), nil, serverDefault: 45) == .exact("ab"))
        #expect(convert(ascii("a|b"), nil, serverDefault: 10) == .exact("aöb"))
    }

    /// A backend with character_set_client_handshake OFF reads every name in its own set: beyond
    /// ASCII a name is exact only when both readings agree.
    @Test func nonASCIINamesMustReadTheSameInTheServersDefault() {
        #expect(!convert(Array("é".utf8), 45, serverDefault: 8).isExact)  // utf8mb4 client, latin1 server
        #expect(!convert([0xE9], 8, serverDefault: 45).isExact)  // latin1 client, utf8mb4 server
        #expect(convert(Array("é".utf8), 45, serverDefault: 33) == .exact("é"))  // utf8mb4 and utf8mb3
        #expect(convert(ascii("ab"), 45, serverDefault: 8) == .exact("ab"))
        #expect(!convert(ascii("a|b"), 10, serverDefault: 8).isExact)  // swe7 client, latin1 server
        #expect(!convert(ascii("a|b"), 8, serverDefault: 10).isExact)  // latin1 client, swe7 server
    }

    @Test func convertedNamesStopAtTheUsernameBuffer() {
        // USERNAME_LENGTH = 384 bytes of utf8mb3; whole characters only.
        let long = String(repeating: "é", count: 200)  // 400 bytes
        #expect(convert(Array(long.utf8), 45) == .exact(String(repeating: "é", count: 192)))
        let latin1 = [UInt8](repeating: 0xE9, count: 200)
        #expect(convert(latin1, 8) == .exact(String(repeating: "é", count: 192)))
        let ascii400 = [UInt8](repeating: 0x61, count: 400)
        #expect(convert(ascii400, 45) == .exact(String(repeating: "a", count: 384)))
    }

    @Test func handshakeResponseConvertsLatin1Names() throws {
        var response = HandshakeResponse(
            capabilities: [.protocol41, .secureConnection, .pluginAuth],
            characterSet: 8,
            username: "x"
        )
        response.usernameBytes = [0x6A, 0x6F, 0x73, 0xE9]
        let decoded = try HandshakeResponse.decode(
            response.encode(),
            clientCapabilities: nil,
            serverCapabilities: [.protocol41, .secureConnection, .pluginAuth],
            serverDefaultCollation: 8
        )
        #expect(decoded.username == "josé")
        #expect(decoded.usernameIsExact)
        #expect(decoded.usernameBytes == [0x6A, 0x6F, 0x73, 0xE9])
    }

    @Test func handshakeResponseInUCS2IsRefused() throws {
        let response = HandshakeResponse(
            capabilities: [.protocol41, .secureConnection],
            characterSet: 35,
            username: "alice"
        )
        let decoded = try HandshakeResponse.decode(
            response.encode(),
            clientCapabilities: nil,
            serverCapabilities: [.protocol41, .secureConnection]
        )
        #expect(decoded.refusedCharacterSet == "ucs2")
        #expect(!decoded.usernameIsExact)
    }

    @Test func preProtocol41NamesAreExactOnlyInASCII() throws {
        // caps SECURE_CONNECTION only, max packet 0xFFFFFF, user "aä" in latin1: no id, so the
        // backend's global character_set_client decides, which the proxy cannot see.
        let packet: [UInt8] = [0x00, 0x80, 0xFF, 0xFF, 0xFF, 0x61, 0xE4, 0x00, 0x00]
        let latin1Server = try HandshakeResponse.decode(
            buffer(packet),
            clientCapabilities: nil,
            serverCapabilities: [.secureConnection],
            serverDefaultCollation: 8
        )
        #expect(!latin1Server.usernameIsExact)
        let ascii: [UInt8] = [0x00, 0x80, 0xFF, 0xFF, 0xFF, 0x61, 0x62, 0x00, 0x00]
        let plain = try HandshakeResponse.decode(
            buffer(ascii),
            clientCapabilities: nil,
            serverCapabilities: [.secureConnection],
            serverDefaultCollation: 8
        )
        #expect(plain.usernameIsExact && plain.username == "ab")
    }

    @Test func changeUserWithoutACharacterSetUsesTheServerDefaultNotTheLogin() throws {
        // 0x11, "bé" in UTF-8, NUL, empty auth (1-byte length), empty db; no character set field.
        let payload = ByteBuffer(bytes: [0x11, 0x62, 0xC3, 0xA9, 0x00, 0x00, 0x00])
        // MariaDB reads it in its global character_set_client (not the login's, not necessarily the
        // greeting's): beyond ASCII the proxy cannot know the name.
        let latin1 = try ChangeUserRequest.decode(payload, capabilities: [.secureConnection], serverDefaultCollation: 8)
        #expect(latin1.characterSet == nil)
        #expect(!latin1.usernameIsExact)
        let utf8 = try ChangeUserRequest.decode(payload, capabilities: [.secureConnection], serverDefaultCollation: 45)
        #expect(!utf8.usernameIsExact)
        let ascii = ByteBuffer(bytes: [0x11, 0x62, 0x00, 0x00, 0x00])
        #expect(
            try ChangeUserRequest.decode(ascii, capabilities: [.secureConnection], serverDefaultCollation: 8)
                .usernameIsExact
        )
    }

    @Test func changeUserUsesThePacketCharacterSet() throws {
        var payload = ByteBuffer(bytes: [0x11, 0x6A, 0x6F, 0x73, 0xE9, 0x00, 0x00, 0x00, 0x08, 0x00])
        let latin1 = try ChangeUserRequest.decode(payload, capabilities: [.secureConnection], serverDefaultCollation: 8)
        #expect(latin1.username == "josé")
        #expect(latin1.usernameIsExact)
        // On a utf8mb4 server without the character set handshake the same bytes are not 'josé'.
        #expect(
            !(try ChangeUserRequest.decode(payload, capabilities: [.secureConnection], serverDefaultCollation: 45))
                .usernameIsExact
        )
        payload = ByteBuffer(bytes: [0x11, 0x6A, 0xE9, 0x00, 0x00, 0x00, 0x1A, 0x00])
        let cp1250 = try ChangeUserRequest.decode(
            payload,
            capabilities: [.secureConnection],
            serverDefaultCollation: 45
        )
        #expect(!cp1250.usernameIsExact)
        payload = ByteBuffer(bytes: [0x11, 0x61, 0x7C, 0x62, 0x00, 0x00, 0x00, 0x0A, 0x00])
        #expect(try ChangeUserRequest.decode(payload, capabilities: [.secureConnection]).username == "aöb")
        payload = ByteBuffer(bytes: [0x11, 0x61, 0x00, 0x00, 0x00, 0x36, 0x00])
        #expect(try ChangeUserRequest.decode(payload, capabilities: [.secureConnection]).refusedCharacterSet == "utf16")
    }

    @Test func changeUserNamesStopAt384BytesWithoutQuoteStripping() throws {
        let name = "'" + String(repeating: "é", count: 200) + "'"
        var payload = ByteBuffer(bytes: [0x11] + Array(name.utf8) + [0x00, 0x00, 0x00, 0x2D, 0x00])
        let request = try ChangeUserRequest.decode(
            payload,
            capabilities: [.secureConnection],
            serverDefaultCollation: 45
        )
        #expect(request.username == "'" + String(repeating: "é", count: 191))
        payload = ByteBuffer(bytes: [0x11] + Array("'q'".utf8) + [0x00, 0x00, 0x00, 0x2D, 0x00])
        #expect(try ChangeUserRequest.decode(payload, capabilities: [.secureConnection]).username == "'q'")
    }
}
