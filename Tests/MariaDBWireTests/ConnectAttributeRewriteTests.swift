import MariaDBWire
import NIOCore
import Testing

@Suite struct ConnectAttributeRewriteTests {
    func block(_ pairs: [(String, String)]) -> [UInt8] {
        var buffer = ByteBuffer()
        for (key, value) in pairs {
            buffer.writeLengthEncodedString(key)
            buffer.writeLengthEncodedString(value)
        }
        return Array(buffer.readableBytesView)
    }

    let ours = [ConnectAttribute(key: "_proxy_tls_version", value: "TLSv1.3")]

    @Test func theClientsProxyKeysAreRemovedAndOursFollowItsOwn() {
        let client = block([("_client_name", "libmariadb"), ("_proxy_client_address", "10.9.9.9"), ("_pid", "42")])
        let rewritten = ConnectAttribute.rewrittenBlock(client, removingKeysWithPrefix: "_proxy_", adding: ours, maxLength: 65535)
        #expect(rewritten == block([("_client_name", "libmariadb"), ("_pid", "42"), ("_proxy_tls_version", "TLSv1.3")]))
    }

    @Test func withNothingToAddTheClientsProxyKeysAreStillRemoved() {
        let client = block([("_proxy_tls_cipher", "NULL"), ("_os", "Linux")])
        #expect(ConnectAttribute.rewrittenBlock(client, removingKeysWithPrefix: "_proxy_", adding: [], maxLength: 65535)
            == block([("_os", "Linux")]))
        #expect(ConnectAttribute.rewrittenBlock(block([("_proxy_x", "y")]), removingKeysWithPrefix: "_proxy_", adding: [], maxLength: 65535) == nil)
        #expect(ConnectAttribute.rewrittenBlock(nil, removingKeysWithPrefix: "_proxy_", adding: ours, maxLength: 65535) == block([("_proxy_tls_version", "TLSv1.3")]))
    }

    @Test func aBlockThatDoesNotParseGoesThroughUnchangedForTheBackendToRefuse() {
        var client = block([("_client_name", "libmariadb"), ("_proxy_client_address", "10.9.9.9")])
        client.append(0x05)  // a key length with no key behind it
        #expect(ConnectAttribute.rewrittenBlock(client, removingKeysWithPrefix: "_proxy_", adding: ours, maxLength: 65535) == client)
    }

    @Test func oursAreLeftOutRatherThanPassTheLimit() {
        let client = block([("k", String(repeating: "v", count: 90)), ("_proxy_tls_version", "forged")])
        let rewritten = ConnectAttribute.rewrittenBlock(client, removingKeysWithPrefix: "_proxy_", adding: ours, maxLength: 100)
        #expect(rewritten == block([("k", String(repeating: "v", count: 90))]))
    }

    @Test func nonUTF8BytesOfOtherAttributesAreKeptAsTheyCame() {
        var client: [UInt8] = [2, 0x6B, 0xFF, 1, 0xFE]
        client += block([("_proxy_a", "b")])
        #expect(ConnectAttribute.rewrittenBlock(client, removingKeysWithPrefix: "_proxy_", adding: [], maxLength: 65535) == [2, 0x6B, 0xFF, 1, 0xFE])
    }
}
