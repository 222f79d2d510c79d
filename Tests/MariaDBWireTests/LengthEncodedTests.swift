import NIOCore
import Testing

@testable import MariaDBWire

@Suite struct LengthEncodedTests {
    @Test(
        arguments: [
            (UInt64(0), 1), (250, 1), (251, 3), (0xFFFF, 3), (0x1_0000, 4), (0xFF_FFFF, 4),
            (0x100_0000, 9), (UInt64.max, 9),
        ] as [(UInt64, Int)]
    )
    func integerRoundTrip(value: UInt64, encodedLength: Int) {
        var out = ByteBuffer()
        #expect(out.writeLengthEncodedInteger(value) == encodedLength)
        #expect(out.readableBytes == encodedLength)
        #expect(out.readLengthEncodedInteger() == value)
        #expect(out.readableBytes == 0)
    }

    @Test func knownEncodings() {
        var out = ByteBuffer()
        out.writeLengthEncodedInteger(0xFB)
        out.writeLengthEncodedInteger(0x12_3456)
        #expect(bytes(out) == [0xFC, 0xFB, 0x00, 0xFD, 0x56, 0x34, 0x12])
    }

    @Test func invalidPrefixesAndTruncationReturnNilWithoutConsuming() {
        for input in [[], [0xFB], [0xFF], [0xFC, 0x01], [0xFD, 0x01, 0x02], [0xFE, 1, 2, 3, 4, 5, 6, 7]] as [[UInt8]] {
            var b = buffer(input)
            #expect(b.readLengthEncodedInteger() == nil)
            #expect(b.readableBytes == input.count)
        }
    }

    @Test func lengthEncodedBytes() {
        var out = ByteBuffer()
        out.writeLengthEncodedString("hello")
        out.writeLengthEncodedBytes([UInt8](repeating: 7, count: 300))
        #expect(out.readLengthEncodedString() == "hello")
        #expect(out.readLengthEncodedBytes() == [UInt8](repeating: 7, count: 300))
        #expect(out.readableBytes == 0)
    }

    @Test func lengthEncodedBytesPastTheEndIsNil() {
        for input in [[0x05, 1, 2], [0xFE] + [UInt8](repeating: 0xFF, count: 8), [0xFC, 0xFF]] as [[UInt8]] {
            var b = buffer(input)
            #expect(b.readLengthEncodedBytes() == nil)
            #expect(b.readableBytes == input.count)
        }
    }

    @Test func nullTerminated() {
        var b = buffer(ascii("abc") + [0] + [0] + ascii("tail"))
        #expect(b.readNullTerminatedString() == "abc")
        #expect(b.readNullTerminatedBytes() == [])
        #expect(b.readNullTerminatedBytes() == nil)
        #expect(b.readableBytes == 4)
        var out = ByteBuffer()
        out.writeNullTerminatedString("xy")
        #expect(bytes(out) == [0x78, 0x79, 0x00])
    }
}
