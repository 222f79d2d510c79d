import NIOCore
import Testing

@testable import MariaDBWire

@Suite struct ERRPacketTests {
    @Test func decodesWithSQLState() throws {
        let payload = hex("ff 15 04") + ascii("#28000Access denied for user 'x'@'localhost' (using password: NO)")
        let err = try ERRPacket.decode(buffer(payload))
        #expect(err.code == 1045)
        #expect(err.sqlState == "28000")
        #expect(err.message == "Access denied for user 'x'@'localhost' (using password: NO)")
        #expect(bytes(err.encode()) == payload)
    }

    @Test func decodesPreGreetingErrorWithoutSQLState() throws {
        let payload = hex("ff 10 04") + ascii("Too many connections")
        let err = try ERRPacket.decode(buffer(payload))
        #expect(err == ERRPacket(code: 1040, sqlState: nil, message: "Too many connections"))
        #expect(bytes(err.encode()) == payload)
        #expect(bytes(MariaDBError.tooManyConnections().encode(includeSQLState: false)) == payload)
    }

    @Test func roundTrips() throws {
        for err in [
            MariaDBError.badHandshake(), MariaDBError.insecureTransport(),
            ERRPacket(code: 0, sqlState: nil, message: ""),
            ERRPacket(code: 1105, sqlState: "HY000", message: "ünïcode ✓"),
        ] {
            #expect(try ERRPacket.decode(err.encode()) == err)
        }
    }

    @Test func sqlStateIsAlwaysFiveBytes() {
        #expect(bytes(ERRPacket(code: 1, sqlState: "42", message: "m").encode()) == hex("ff 01 00") + ascii("#42000m"))
        #expect(
            bytes(ERRPacket(code: 1, sqlState: "4200099", message: "m").encode()) == hex("ff 01 00") + ascii("#42000m")
        )
        #expect(
            bytes(ERRPacket(code: 1, sqlState: "42000", message: "m").encode(includeSQLState: false))
                == hex("ff 01 00") + ascii("m")
        )
    }

    @Test func messageClippedTo511BytesOnACharacterBoundary() throws {
        let ascii600 = String(repeating: "a", count: 600)
        #expect(ERRPacket(code: 1, sqlState: nil, message: ascii600).encode().readableBytes == 3 + 511)
        // 255 two-byte characters = 510 bytes, then a 3-byte one that does not fit.
        let mixed = String(repeating: "é", count: 255) + "✓" + "tail"
        let encoded = ERRPacket(code: 1, sqlState: "HY000", message: mixed).encode()
        #expect(encoded.readableBytes == 3 + 6 + 510)
        #expect(try ERRPacket.decode(encoded).message == String(repeating: "é", count: 255))
    }

    @Test func truncationAndInvalidInput() throws {
        for input in [[], [0xFF], [0xFF, 0x15]] as [[UInt8]] {
            #expect(throws: WireError.self) { try ERRPacket.decode(buffer(input)) }
        }
        #expect(throws: WireError.malformed("err: header 0x0")) { try ERRPacket.decode(buffer([0, 0, 0])) }
        #expect(throws: WireError.malformed("err: code 0xFFFF is a progress report")) {
            try ERRPacket.decode(buffer(hex("ff ff ff 01 01 02")))
        }
        // A '#' without five characters after it is just message text.
        let short = try ERRPacket.decode(buffer(hex("ff 15 04") + ascii("#2800")))
        #expect(short.sqlState == nil)
        #expect(short.message == "#2800")
        let full = bytes(MariaDBError.badHandshake().encode())
        for length in 3...full.count {
            _ = try ERRPacket.decode(buffer(Array(full[..<length])))
        }
    }
}
