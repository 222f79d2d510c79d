import NIOCore

/// Length-encoded integers and strings, and NUL-terminated strings, as used throughout the MariaDB protocol.
/// Readers return nil on truncation or an invalid prefix and then leave the reader index untouched; they never trap.
extension ByteBuffer {
    /// Reads a length-encoded integer: < 0xFB is the value itself; 0xFC, 0xFD, 0xFE prefix a 2-, 3- or 8-byte
    /// little-endian value. 0xFB (SQL NULL in row data) and 0xFF (the ERR marker) are not integers: nil.
    public mutating func readLengthEncodedInteger() -> UInt64? {
        var copy = self
        guard let first = copy.readInteger(as: UInt8.self) else { return nil }
        let value: UInt64
        switch first {
        case 0..<0xFB:
            value = UInt64(first)
        case 0xFC:
            guard let v = copy.readInteger(endianness: .little, as: UInt16.self) else { return nil }
            value = UInt64(v)
        case 0xFD:
            guard let low = copy.readInteger(endianness: .little, as: UInt16.self),
                let high = copy.readInteger(as: UInt8.self)
            else { return nil }
            value = UInt64(low) | UInt64(high) << 16
        case 0xFE:
            guard let v = copy.readInteger(endianness: .little, as: UInt64.self) else { return nil }
            value = v
        default:
            return nil
        }
        self = copy
        return value
    }

    /// Writes `value` in the shortest length-encoded form.
    @discardableResult
    public mutating func writeLengthEncodedInteger(_ value: UInt64) -> Int {
        switch value {
        case 0..<0xFB:
            return writeInteger(UInt8(value))
        case 0xFB...0xFFFF:
            return writeInteger(UInt8(0xFC)) + writeInteger(UInt16(value), endianness: .little)
        case 0x1_0000...0xFF_FFFF:
            return writeInteger(UInt8(0xFD)) + writeInteger(UInt16(truncatingIfNeeded: value), endianness: .little)
                + writeInteger(UInt8(truncatingIfNeeded: value >> 16))
        default:
            return writeInteger(UInt8(0xFE)) + writeInteger(value, endianness: .little)
        }
    }

    /// Reads a length-encoded string (length-encoded integer, then that many bytes).
    public mutating func readLengthEncodedBytes() -> [UInt8]? {
        var copy = self
        guard let length = copy.readLengthEncodedInteger(),
            length <= UInt64(copy.readableBytes),
            let bytes = copy.readBytes(length: Int(length))
        else { return nil }
        self = copy
        return bytes
    }

    /// Reads a length-encoded string and decodes it as (lossy) UTF-8.
    public mutating func readLengthEncodedString() -> String? {
        readLengthEncodedBytes().map { String(decoding: $0, as: UTF8.self) }
    }

    /// Writes a length-encoded string.
    @discardableResult
    public mutating func writeLengthEncodedBytes<Bytes: Collection>(_ bytes: Bytes) -> Int
    where Bytes.Element == UInt8 {
        writeLengthEncodedInteger(UInt64(bytes.count)) + writeBytes(bytes)
    }

    /// Writes a length-encoded UTF-8 string.
    @discardableResult
    public mutating func writeLengthEncodedString(_ string: String) -> Int {
        writeLengthEncodedBytes(Array(string.utf8))
    }

    /// Reads bytes up to a 0x00 terminator and consumes the terminator; nil when there is none.
    public mutating func readNullTerminatedBytes() -> [UInt8]? {
        guard let index = readableBytesView.firstIndex(of: 0) else { return nil }
        let length = index - readableBytesView.startIndex
        guard let bytes = readBytes(length: length) else { return nil }
        moveReaderIndex(forwardBy: 1)
        return bytes
    }

    /// Writes `bytes` followed by a 0x00 terminator.
    @discardableResult
    public mutating func writeNullTerminatedBytes<Bytes: Collection>(_ bytes: Bytes) -> Int
    where Bytes.Element == UInt8 {
        writeBytes(bytes) + writeInteger(UInt8(0))
    }

    // readNullTerminatedString() and writeNullTerminatedString(_:) come from NIOCore itself.
}
