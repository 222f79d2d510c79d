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
    /// The attributes block of a HandshakeResponse or COM_CHANGE_USER (`lenenc key, lenenc value`
    /// pairs) as the backend should get it: `added` first (so a client's long attributes cannot
    /// push them out of performance_schema's per-session buffer), then the client's pairs without
    /// any key that starts with `prefix` (ASCII case-insensitively).
    ///
    /// MariaDB keeps the pairs before one it cannot read and goes on with the login
    /// (sql/sql_acl.cc read_client_connect_attrs), so a block that does not parse to its end keeps
    /// its well-formed pairs, filtered, and loses the rest. `added` is left out if it would take
    /// the block past `maxLength`, which MariaDB refuses.
    public static func rewrittenBlock(
        _ block: [UInt8]?,
        removingKeysWithPrefix prefix: String,
        adding added: [ConnectAttribute],
        maxLength: Int
    ) -> [UInt8]? {
        var input = ByteBuffer(bytes: block ?? [])
        var kept = ByteBuffer()
        let prefixBytes = Array(prefix.utf8).map(lowercased)
        while input.readableBytes > 0 {
            guard let key = input.readLengthEncodedBytes(), let value = input.readLengthEncodedBytes() else { break }
            if key.count >= prefixBytes.count, zip(key, prefixBytes).allSatisfy({ lowercased($0) == $1 }) { continue }
            kept.writeLengthEncodedBytes(key)
            kept.writeLengthEncodedBytes(value)
        }
        var output = ByteBuffer()
        for attribute in added {
            output.writeLengthEncodedString(attribute.key)
            output.writeLengthEncodedString(attribute.value)
        }
        if output.readableBytes + kept.readableBytes > maxLength { output.clear() }
        output.writeBuffer(&kept)
        return output.readableBytes == 0 ? nil : Array(output.readableBytesView)
    }

    private static func lowercased(_ byte: UInt8) -> UInt8 {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte + 32 : byte
    }
}
