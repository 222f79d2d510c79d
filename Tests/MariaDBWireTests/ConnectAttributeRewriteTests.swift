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
        let rewritten = ConnectAttribute.rewrittenBlock(
            client,
            removingKeysWithPrefix: "_proxy_",
            adding: ours,
            maxLength: 65535
        )
        #expect(
            rewritten == block([("_proxy_tls_version", "TLSv1.3"), ("_client_name", "libmariadb"), ("_pid", "42")])
        )
    }

    @Test func withNothingToAddTheClientsProxyKeysAreStillRemoved() {
        let client = block([("_proxy_tls_cipher", "NULL"), ("_os", "Linux")])
        #expect(
            ConnectAttribute.rewrittenBlock(client, removingKeysWithPrefix: "_proxy_", adding: [], maxLength: 65535)
                == block([("_os", "Linux")])
        )
        #expect(
            ConnectAttribute.rewrittenBlock(
                block([("_proxy_x", "y")]),
                removingKeysWithPrefix: "_proxy_",
                adding: [],
                maxLength: 65535
            ) == nil
        )
        #expect(
            ConnectAttribute.rewrittenBlock(nil, removingKeysWithPrefix: "_proxy_", adding: ours, maxLength: 65535)
                == block([("_proxy_tls_version", "TLSv1.3")])
        )
    }

    @Test func aBlockThatDoesNotParseKeepsItsReadablePairsFilteredAsMariaDBDoes() {
        var client = block([("_client_name", "libmariadb"), ("_proxy_client_address", "10.9.9.9")])
        client.append(0x05)  // a key length with no key behind it: MariaDB stops reading here
        #expect(
            ConnectAttribute.rewrittenBlock(client, removingKeysWithPrefix: "_proxy_", adding: ours, maxLength: 65535)
                == block([("_proxy_tls_version", "TLSv1.3"), ("_client_name", "libmariadb")])
        )
    }

    @Test func thePrefixIsMatchedWhateverItsCase() {
        let client = block([
            ("_PROXY_client_address", "10.9.9.9"), ("_Proxy_x", "y"), ("_proxyish", "kept? no: prefix _proxy"),
        ])
        #expect(
            ConnectAttribute.rewrittenBlock(client, removingKeysWithPrefix: "_proxy_", adding: [], maxLength: 65535)
                == block([("_proxyish", "kept? no: prefix _proxy")])
        )
    }

    @Test func oursAreLeftOutRatherThanPassTheLimit() {
        let client = block([("k", String(repeating: "v", count: 90)), ("_proxy_tls_version", "forged")])
        let rewritten = ConnectAttribute.rewrittenBlock(
            client,
            removingKeysWithPrefix: "_proxy_",
            adding: ours,
            maxLength: 100
        )
        #expect(rewritten == block([("k", String(repeating: "v", count: 90))]))
    }

    @Test func nonUTF8BytesOfOtherAttributesAreKeptAsTheyCame() {
        var client: [UInt8] = [2, 0x6B, 0xFF, 1, 0xFE]
        client += block([("_proxy_a", "b")])
        #expect(
            ConnectAttribute.rewrittenBlock(client, removingKeysWithPrefix: "_proxy_", adding: [], maxLength: 65535)
                == [2, 0x6B, 0xFF, 1, 0xFE]
        )
    }
}

@Suite struct ChangeUserAttributeRewriteTests {
    let capabilities: CapabilityFlags = [.protocol41, .secureConnection, .pluginAuth, .connectAttrs]

    func changeUser(attributes: [UInt8]?) -> ByteBuffer {
        var payload = ChangeUserRequest(
            username: "app",
            authResponse: Array(repeating: 7, count: 20),
            characterSet: 45,
            authPluginName: "mysql_native_password"
        ).encode(capabilities: capabilities)
        if let attributes { payload.writeLengthEncodedBytes(attributes) }
        return payload
    }

    @Test func theAttributeBlockIsReplacedAndTheFieldsBeforeItKept() throws {
        let original = changeUser(
            attributes: ConnectAttributeRewriteTests().block([("_proxy_client_address", "6.6.6.6")])
        )
        let request = try ChangeUserRequest.decode(original, capabilities: capabilities)
        #expect(
            request.attributesBlock(in: original)
                == ConnectAttributeRewriteTests().block([("_proxy_client_address", "6.6.6.6")])
        )
        let replacement = ConnectAttributeRewriteTests().block([("_os", "Linux")])
        let rewritten = try #require(request.payload(original, replacingAttributesWith: replacement))
        #expect(rewritten == changeUser(attributes: replacement))
        #expect(try ChangeUserRequest.decode(rewritten, capabilities: capabilities).username == "app")
    }

    @Test func withoutABlockOrWithAMalformedOneNothingIsRewritten() throws {
        let bare = changeUser(attributes: nil)
        #expect(try ChangeUserRequest.decode(bare, capabilities: capabilities).attributesBlock(in: bare) == nil)
        var malformed = changeUser(attributes: nil)
        malformed.writeBytes([0x09, 0x01])  // claims 9 bytes, has 1
        let request = try ChangeUserRequest.decode(malformed, capabilities: capabilities)
        #expect(request.attributesBlock(in: malformed) == nil)
        #expect(request.payload(malformed, replacingAttributesWith: []) == nil)
        // A block shorter than the rest: MariaDB reads the block and ignores what follows.
        var trailing = changeUser(attributes: ConnectAttributeRewriteTests().block([("_proxy_a", "b")]))
        trailing.writeBytes([0xAA, 0xBB])
        let withTrailing = try ChangeUserRequest.decode(trailing, capabilities: capabilities)
        #expect(withTrailing.attributesBlock(in: trailing) == ConnectAttributeRewriteTests().block([("_proxy_a", "b")]))
        #expect(withTrailing.payload(trailing, replacingAttributesWith: nil) == changeUser(attributes: []))
    }
}
