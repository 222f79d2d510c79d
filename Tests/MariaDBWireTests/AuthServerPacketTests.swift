import NIOCore
import Testing

@testable import MariaDBWire

@Suite struct AuthServerPacketTests {
    @Test func classifiesEachKind() throws {
        #expect(try AuthServerPacket.classify(buffer(hex("00 00 00 02 00 00 00"))) == .ok)
        #expect(
            try AuthServerPacket.classify(MariaDBError.badHandshake().encode()) == .error(MariaDBError.badHandshake())
        )
        #expect(try AuthServerPacket.classify(buffer([0xFE])) == .oldAuthSwitch)
        let scramble = (1...20).map { UInt8($0) } + [0]
        #expect(
            try AuthServerPacket.classify(buffer([0xFE] + ascii("mysql_native_password") + [0] + scramble))
                == .authSwitch(plugin: "mysql_native_password", data: scramble)
        )
        #expect(
            try AuthServerPacket.classify(buffer([0xFE] + ascii("client_ed25519") + [0]))
                == .authSwitch(plugin: "client_ed25519", data: [])
        )
        #expect(
            try AuthServerPacket.classify(buffer([0x01, 0x50, 0x02] + [UInt8](repeating: 9, count: 18)))
                == .moreData([0x50, 0x02] + [UInt8](repeating: 9, count: 18))
        )
        #expect(try AuthServerPacket.classify(buffer([0x01])) == .moreData([]))
    }

    @Test func switchWithoutTerminatorTakesTheRestAsName() throws {
        #expect(
            try AuthServerPacket.classify(buffer([0xFE] + ascii("parsec"))) == .authSwitch(plugin: "parsec", data: [])
        )
    }

    @Test func rejectsEmptyAndUnknown() {
        #expect(throws: WireError.malformed("auth packet: empty payload")) {
            try AuthServerPacket.classify(ByteBuffer())
        }
        for first in [UInt8(0x02), 0x03, 0x0A, 0x7F, 0xFB, 0xFC, 0xFD] {
            #expect(throws: WireError.self) { try AuthServerPacket.classify(buffer([first, 0, 0])) }
        }
        // A truncated ERR is malformed too.
        #expect(throws: WireError.self) { try AuthServerPacket.classify(buffer([0xFF, 0x15])) }
    }
}
