import NIOCore

/// Bounds-checked cursor over one packet payload. Every failure becomes `WireError.malformed("<context>: <what>")`,
/// so decoders read straight-line without ever trapping.
struct PayloadReader {
    var buffer: ByteBuffer
    let context: String

    init(_ payload: ByteBuffer, context: String) {
        self.buffer = payload
        self.context = context
    }

    var remaining: Int { buffer.readableBytes }
    var isAtEnd: Bool { buffer.readableBytes == 0 }

    func malformed(_ what: String) -> WireError {
        .malformed("\(context): \(what)")
    }

    mutating func readUInt8(_ field: String) throws(WireError) -> UInt8 {
        guard let value = buffer.readInteger(as: UInt8.self) else { throw malformed("truncated \(field)") }
        return value
    }

    mutating func readUInt16(_ field: String) throws(WireError) -> UInt16 {
        guard let value = buffer.readInteger(endianness: .little, as: UInt16.self) else {
            throw malformed("truncated \(field)")
        }
        return value
    }

    mutating func readUInt24(_ field: String) throws(WireError) -> UInt32 {
        guard buffer.readableBytes >= 3,
            let low = buffer.readInteger(endianness: .little, as: UInt16.self),
            let high = buffer.readInteger(as: UInt8.self)
        else { throw malformed("truncated \(field)") }
        return UInt32(low) | UInt32(high) << 16
    }

    mutating func readUInt32(_ field: String) throws(WireError) -> UInt32 {
        guard let value = buffer.readInteger(endianness: .little, as: UInt32.self) else {
            throw malformed("truncated \(field)")
        }
        return value
    }

    mutating func readBytes(_ count: Int, _ field: String) throws(WireError) -> [UInt8] {
        guard count >= 0, let bytes = buffer.readBytes(length: count) else { throw malformed("truncated \(field)") }
        return bytes
    }

    mutating func skip(_ count: Int, _ field: String) throws(WireError) {
        guard count >= 0, buffer.readableBytes >= count else { throw malformed("truncated \(field)") }
        buffer.moveReaderIndex(forwardBy: count)
    }

    /// NUL-terminated field whose terminator is mandatory.
    mutating func readNullTerminated(_ field: String) throws(WireError) -> [UInt8] {
        guard let bytes = buffer.readNullTerminatedBytes() else { throw malformed("missing \(field) terminator") }
        return bytes
    }

    /// NUL-terminated field that may instead run to the end of the payload (MariaDB's receive buffer always
    /// ends in a NUL, so the server accepts this). Returns the bytes and whether a terminator was consumed.
    mutating func readNullTerminatedOrRest() -> (bytes: [UInt8], terminated: Bool) {
        if let bytes = buffer.readNullTerminatedBytes() { return (bytes, true) }
        return (buffer.readBytes(length: buffer.readableBytes) ?? [], false)
    }

    mutating func readLengthEncodedInteger(_ field: String) throws(WireError) -> UInt64 {
        guard let value = buffer.readLengthEncodedInteger() else {
            throw malformed("truncated or invalid \(field) length")
        }
        return value
    }

    /// Length-encoded string whose length must fit in the remaining bytes.
    mutating func readLengthEncodedBytes(_ field: String) throws(WireError) -> [UInt8] {
        let length = try readLengthEncodedInteger(field)
        guard length <= UInt64(buffer.readableBytes) else { throw malformed("\(field) runs past the end") }
        return try readBytes(Int(length), field)
    }

    mutating func readRest() -> [UInt8] {
        buffer.readBytes(length: buffer.readableBytes) ?? []
    }
}

extension String {
    /// Lossy UTF-8 decoding of wire bytes.
    init(wireBytes bytes: [UInt8]) {
        self = String(decoding: bytes, as: UTF8.self)
    }
}
