import NIOCore

/// One client connection attribute (`_client_name`, `_pid`, …) from a HandshakeResponse.
public struct ConnectAttribute: Sendable, Hashable {
    public var key: String
    public var value: String

    public init(key: String, value: String) {
        self.key = key
        self.value = value
    }
}

extension ConnectAttribute {
    /// The attributes block of a HandshakeResponse (`lenenc key, lenenc value` pairs) with every
    /// key starting with `prefix` removed and `added` appended after the client's own.
    ///
    /// A block that does not parse to its end is returned unchanged: MariaDB refuses such a login
    /// (sql/sql_acl.cc read_client_connect_attrs), and the backend must see the same bytes to
    /// refuse it too. `added` is left out if the block would grow past `maxLength`, which
    /// MariaDB would refuse.
    public static func rewrittenBlock(
        _ block: [UInt8]?, removingKeysWithPrefix prefix: String, adding added: [ConnectAttribute], maxLength: Int
    ) -> [UInt8]? {
        var input = ByteBuffer(bytes: block ?? [])
        var output = ByteBuffer()
        let prefixBytes = Array(prefix.utf8)
        while input.readableBytes > 0 {
            guard let key = input.readLengthEncodedBytes(), let value = input.readLengthEncodedBytes() else { return block }
            if key.starts(with: prefixBytes) { continue }
            output.writeLengthEncodedBytes(key)
            output.writeLengthEncodedBytes(value)
        }
        var extended = output
        for attribute in added {
            extended.writeLengthEncodedString(attribute.key)
            extended.writeLengthEncodedString(attribute.value)
        }
        if extended.readableBytes <= maxLength { output = extended }
        return output.readableBytes == 0 ? nil : Array(output.readableBytesView)
    }
}
