import NIOCore
import Testing

@testable import MariaDBWire

/// The forwarded login is re-encoded from the fields the proxy checked, in the layout MariaDB read
/// them with: the backend, which never sees an SSLRequest and parses the packet with its own
/// capabilities, must find the same user name.
@Suite struct HandshakeResponseForwardingTests {
    typealias H = HandshakeResponseTests

    /// What the backend does with a forwarded packet: no SSLRequest, capabilities from the packet.
    func asBackend(_ payload: ByteBuffer) throws -> HandshakeResponse {
        try HandshakeResponse.decode(payload, clientCapabilities: nil, serverCapabilities: RealGreeting.capabilities)
    }

    /// Decode with the capabilities MariaDB parses with, then re-encode with the negotiated set minus
    /// SSL, as the login state machine forwards it.
    func forward(
        _ payload: [UInt8],
        sslRequest: CapabilityFlags?
    ) throws -> (checked: HandshakeResponse, forwarded: ByteBuffer) {
        let checked = try HandshakeResponse.decode(
            buffer(payload),
            clientCapabilities: sslRequest,
            serverCapabilities: H.server
        )
        let negotiated = (sslRequest ?? checked.capabilities).intersection(H.server).subtracting([.ssl, .compress])
        return (checked, checked.forwardedPayload(capabilities: negotiated))
    }

    /// A 2-byte pre-4.1 SSLRequest's capabilities: SSL, SECURE_CONNECTION, TRANSACTIONS, CLIENT_MYSQL clear.
    static let pre41SSLRequest = CapabilityFlags([.ssl, .secureConnection, .transactions])

    /// A HandshakeResponse that claims PROTOCOL_41 (and is ≥ 32 bytes), sent after a pre-4.1 SSLRequest:
    /// MariaDB reads it in the pre-4.1 layout, so the user name starts at offset 5 and here runs over
    /// offsets 28–31, where the 4.1 layout keeps the extended capabilities. Rewriting the capability
    /// words in place (as the proxy once did) cut the backend's copy of the name to its first 23 bytes.
    static var mixedLayoutResponse: [UInt8] {
        let fourOneCaps = CapabilityFlags([.protocol41, .secureConnection, .transactions, .ssl])
        var packet = le16(UInt16(fourOneCaps.lowerWord & 0xFFFF)) + [0, 0, 0]
        packet += ascii("x509_twenty_three_chars")  // offsets 5..27
        packet += ascii("ABCD")  // offsets 28..31
        packet += [0]  // ends the user name
        packet += [0]  // auth response: 1-byte length 0
        return packet
    }

    @Test func pre41SSLRequestThen41ResponseForwardsTheCheckedUser() throws {
        let (checked, forwarded) = try forward(Self.mixedLayoutResponse, sslRequest: Self.pre41SSLRequest)
        #expect(!checked.isProtocol41)
        #expect(checked.username == "x509_twenty_three_charsABCD")
        let backend = try asBackend(forwarded)
        #expect(!backend.isProtocol41)
        #expect(backend.username == checked.username)
        #expect(backend.usernameBytes == checked.usernameBytes)
        #expect(backend.authResponse == checked.authResponse)
        #expect(!backend.capabilities.contains(.ssl))
        // Pre-4.1: caps(2), max packet(3), user NUL, 1-byte auth length; nothing else.
        #expect(
            bytes(forwarded) == le16(UInt16(CapabilityFlags([.secureConnection, .transactions]).lowerWord))
                + [0, 0, 0] + ascii("x509_twenty_three_charsABCD") + [0] + [0]
        )
    }

    @Test func a41SSLRequestKeepsThe41LayoutWhateverTheResponseClaims() throws {
        // The response inside TLS claims pre-4.1 in its own caps word; MariaDB reads it as 4.1 anyway.
        var packet = H.fullPacket
        packet.replaceSubrange(0..<4, with: le32(CapabilityFlags([.secureConnection]).lowerWord))
        let (checked, forwarded) = try forward(packet, sslRequest: H.client.union(.ssl))
        #expect(checked.isProtocol41)
        let backend = try asBackend(forwarded)
        #expect(backend.isProtocol41)
        #expect(backend.username == "app")
        #expect(backend.database == "shop")
        #expect(backend.authPluginName == "mysql_native_password")
        #expect(backend.connectAttributes == checked.connectAttributes)
        #expect(backend.capabilities == H.client.intersection(H.server))
    }

    @Test func roundTripIn41LayoutIsByteForByte() throws {
        let (checked, forwarded) = try forward(H.fullPacket, sslRequest: nil)
        #expect(bytes(forwarded) == H.fullPacket)
        #expect(try asBackend(forwarded) == checked)
    }

    @Test func roundTripInPre41Layout() throws {
        let packet =
            [0x8D, 0x00, 0x00, 0x00, 0x01] + ascii("bob") + [0] + ascii("abcdefgh") + [0] + ascii("test") + [0]
        let decoded = try HandshakeResponse.decode(
            buffer(packet),
            clientCapabilities: nil,
            serverCapabilities: H.server
        )
        #expect(bytes(decoded.encode()) == packet)
        // Forwarded with the negotiated set: CLIENT_MYSQL is not advertised, so the word loses it.
        let (_, forwarded) = try forward(packet, sslRequest: nil)
        #expect(bytes(forwarded) == [0x8C, 0x00] + Array(packet[2...]))
        #expect(try asBackend(forwarded).username == "bob")
    }

    @Test func trailingBytesMariaDBIgnoresAreDropped() throws {
        // After the attributes (a MySQL 8 zstd level, say) and after the plugin name without CONNECT_ATTRS.
        let (_, withAttributes) = try forward(H.fullPacket + [3, 9, 9], sslRequest: nil)
        #expect(bytes(withAttributes) == H.fullPacket)
        let caps: CapabilityFlags = [.protocol41, .secureConnection, .pluginAuth]
        let packet = H.fixedPart(caps) + ascii("u") + [0] + [0] + ascii("p") + [0]
        let (_, forwarded) = try forward(packet + ascii("junk"), sslRequest: nil)
        #expect(bytes(forwarded) == packet)
    }

    @Test func rawNameBytesAreForwardedNotTheConversion() throws {
        // latin1 "josé" with quotes: checked as josé, forwarded as the client's bytes.
        let raw: [UInt8] = [0x27, 0x6A, 0x6F, 0x73, 0xE9, 0x27]
        let packet = H.fixedPart([.protocol41, .secureConnection], charset: 8) + raw + [0] + [0]
        let (checked, forwarded) = try forward(packet, sslRequest: nil)
        #expect(checked.username == "josé")
        #expect(bytes(forwarded) == packet)
    }

    @Test func lenencFlagWithoutSecureConnectionMeansNulTerminated() throws {
        // MariaDB reads the auth response NUL-terminated unless SECURE_CONNECTION is negotiated, whatever
        // PLUGIN_AUTH_LENENC_CLIENT_DATA says; the encoder must write it the same way.
        let response = HandshakeResponse(
            capabilities: [.protocol41, .pluginAuthLenencClientData],
            username: "u",
            authResponse: ascii("pw")
        )
        #expect(Array(bytes(response.encode())[32...]) == ascii("u") + [0] + ascii("pw") + [0])
        #expect(try asBackend(response.encode()).authResponse == ascii("pw"))
    }

    @Test func quotesAreStrippedAfterTheConversionBufferAndBeforeTheCharacterClip() throws {
        func name(_ raw: [UInt8], charset: UInt8 = 45) throws -> String {
            let packet = H.fixedPart([.protocol41, .secureConnection], charset: charset) + raw + [0] + [0]
            return try HandshakeResponse.decode(buffer(packet), clientCapabilities: nil, serverCapabilities: H.server)
                .username
        }
        // 402 bytes: the 384-byte buffer cuts the closing quote off, so no quotes are stripped;
        // then 128 characters remain, the opening quote first.
        let quoted = ascii("'") + [UInt8](repeating: 0x61, count: 400) + ascii("'")
        #expect(try name(quoted) == "'" + String(repeating: "a", count: 127))
        // Short enough for the buffer: stripped, then clipped.
        let fits = ascii("'") + [UInt8](repeating: 0x61, count: 200) + ascii("'")
        #expect(try name(fits) == String(repeating: "a", count: 128))
    }

    @Test func protocol41ResponsesShorterThan32BytesAreRefused() {
        for length in 2..<32 {
            let packet = Array(H.fixedPart([.protocol41, .secureConnection]).prefix(length))
            #expect(throws: WireError.self) {
                try HandshakeResponse.decode(buffer(packet), clientCapabilities: nil, serverCapabilities: H.server)
            }
            if length >= 6 {
                #expect(throws: WireError.self) {
                    try HandshakeResponse.decode(
                        buffer(packet),
                        clientCapabilities: H.client.union(.ssl),
                        serverCapabilities: H.server
                    )
                }
            }
        }
    }
}
