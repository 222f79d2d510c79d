import NIOCore

/// What the server sends during authentication, classified by its first byte (sql/sql_acl.cc, send_plugin_request_packet and the OK/ERR it ends with).
public enum AuthServerPacket: Sendable, Equatable {
    /// 0x00: login accepted (decode with ``OKPacket/decode(_:capabilities:)`` for the details).
    case ok
    /// 0xFF: login refused.
    case error(ERRPacket)
    /// 0xFE + plugin name + NUL + plugin data (the data is kept as sent, e.g. 20-byte scramble + NUL for native).
    case authSwitch(plugin: String, data: [UInt8])
    /// A lone 0xFE: the legacy "switch to mysql_old_password / short scramble" request.
    case oldAuthSwitch
    /// 0x01 + plugin data; the 0x01 prefix is stripped.
    case moreData([UInt8])

    /// Classifies a server packet seen during authentication. Empty payloads and other first bytes are malformed.
    public static func classify(_ payload: ByteBuffer) throws(WireError) -> AuthServerPacket {
        var reader = PayloadReader(payload, context: "auth packet")
        guard let first = reader.buffer.getInteger(at: reader.buffer.readerIndex, as: UInt8.self) else {
            throw reader.malformed("empty payload")
        }
        switch first {
        case 0x00:
            return .ok
        case 0xFF:
            return .error(try ERRPacket.decode(payload))
        case 0xFE:
            try reader.skip(1, "header")
            if reader.isAtEnd { return .oldAuthSwitch }
            // Clients read the name up to a NUL, which their receive buffer always supplies at the end.
            let (name, _) = reader.readNullTerminatedOrRest()
            return .authSwitch(plugin: String(wireBytes: name), data: reader.readRest())
        case 0x01:
            try reader.skip(1, "header")
            return .moreData(reader.readRest())
        default:
            throw reader.malformed("unexpected first byte 0x\(String(first, radix: 16))")
        }
    }
}
