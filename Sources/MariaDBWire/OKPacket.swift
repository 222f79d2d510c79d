import NIOCore

/// OK packet (sql/protocol.cc net_send_ok): header 0x00, affected rows and last insert id (lenenc), status (2),
/// warnings (2, PROTOCOL_41 only), then the info string (lenenc) and, with SESSION_TRACK and
/// SERVER_SESSION_STATE_CHANGED, the session-state block (lenenc).
public struct OKPacket: Sendable, Equatable {
    public var affectedRows: UInt64
    public var lastInsertID: UInt64
    public var statusFlags: UInt16
    public var warnings: UInt16
    /// Human-readable info (on 11.4+ the login OK carries the zero-configuration TLS signature here); may be empty.
    public var info: [UInt8]
    /// Raw session-state-change block, present only with SESSION_TRACK and SERVER_SESSION_STATE_CHANGED.
    public var sessionStateChanges: [UInt8]?

    /// SERVER_SESSION_STATE_CHANGED status bit.
    public static let sessionStateChangedFlag: UInt16 = 1 << 14

    public init(
        affectedRows: UInt64 = 0,
        lastInsertID: UInt64 = 0,
        statusFlags: UInt16 = 0,
        warnings: UInt16 = 0,
        info: [UInt8] = [],
        sessionStateChanges: [UInt8]? = nil
    ) {
        self.affectedRows = affectedRows
        self.lastInsertID = lastInsertID
        self.statusFlags = statusFlags
        self.warnings = warnings
        self.info = info
        self.sessionStateChanges = sessionStateChanges
    }

    /// Decodes an OK packet (header 0x00, or 0xFE when it replaces EOF under DEPRECATE_EOF).
    /// `capabilities` are the negotiated ones: they decide whether warnings and session state are present.
    public static func decode(_ payload: ByteBuffer, capabilities: CapabilityFlags) throws(WireError) -> OKPacket {
        var reader = PayloadReader(payload, context: "ok")
        let header = try reader.readUInt8("header")
        guard header == 0x00 || header == 0xFE else { throw reader.malformed("header 0x\(String(header, radix: 16))") }
        var ok = OKPacket()
        ok.affectedRows = try reader.readLengthEncodedInteger("affected rows")
        ok.lastInsertID = try reader.readLengthEncodedInteger("last insert id")
        ok.statusFlags = try reader.readUInt16("status flags")
        if capabilities.contains(.protocol41) {
            ok.warnings = try reader.readUInt16("warnings")
        }
        if !reader.isAtEnd {
            ok.info = try reader.readLengthEncodedBytes("info")
        }
        if capabilities.contains(.sessionTrack), ok.statusFlags & sessionStateChangedFlag != 0, !reader.isAtEnd {
            ok.sessionStateChanges = try reader.readLengthEncodedBytes("session state")
        }
        return ok
    }

    /// Encodes with header 0x00, writing optional parts the way MariaDB's `net_send_ok()` does.
    public func encode(capabilities: CapabilityFlags, allocator: ByteBufferAllocator = .init()) -> ByteBuffer {
        var out = allocator.buffer(capacity: 16 + info.count + (sessionStateChanges?.count ?? 0))
        out.writeInteger(UInt8(0x00))
        out.writeLengthEncodedInteger(affectedRows)
        out.writeLengthEncodedInteger(lastInsertID)
        out.writeInteger(statusFlags, endianness: .little)
        if capabilities.contains(.protocol41) {
            out.writeInteger(warnings, endianness: .little)
        }
        let stateChanged = capabilities.contains(.sessionTrack) && statusFlags & Self.sessionStateChangedFlag != 0
        if stateChanged || !info.isEmpty {
            out.writeLengthEncodedBytes(info)
        }
        if stateChanged {
            out.writeLengthEncodedBytes(sessionStateChanges ?? [])
        }
        return out
    }
}
