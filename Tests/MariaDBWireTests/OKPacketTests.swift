import NIOCore
import Testing

@testable import MariaDBWire

@Suite struct OKPacketTests {
    static let caps41: CapabilityFlags = [.protocol41, .secureConnection]
    static let tracking: CapabilityFlags = [.protocol41, .sessionTrack]

    @Test func decodesLoginOK() throws {
        // What 10.11 sends after a successful login to a client without SESSION_TRACK.
        let ok = try OKPacket.decode(buffer(hex("00 00 00 02 00 00 00")), capabilities: Self.caps41)
        #expect(ok == OKPacket(statusFlags: 2))
        #expect(bytes(ok.encode(capabilities: Self.caps41)) == hex("00 00 00 02 00 00 00"))
    }

    @Test func decodesSessionStateBlock() throws {
        // autocommit, SERVER_SESSION_STATE_CHANGED; empty info; 5-byte state block.
        let payload = hex("00 00 00 02 40 00 00 00 05 00 03 02 61 62")
        let ok = try OKPacket.decode(buffer(payload), capabilities: Self.tracking)
        #expect(ok.statusFlags == 0x4002)
        #expect(ok.info == [])
        #expect(ok.sessionStateChanges == hex("00 03 02 61 62"))
        #expect(bytes(ok.encode(capabilities: Self.tracking)) == payload)
        // Without SESSION_TRACK negotiated, the block is not interpreted.
        #expect(try OKPacket.decode(buffer(payload), capabilities: Self.caps41).sessionStateChanges == nil)
    }

    @Test func roundTrips() throws {
        let samples: [(OKPacket, CapabilityFlags)] = [
            (
                OKPacket(
                    affectedRows: 250,
                    lastInsertID: 251,
                    statusFlags: 0x22,
                    warnings: 3,
                    info: ascii("Rows matched: 1")
                ), Self.caps41
            ),
            (OKPacket(affectedRows: 0x1_0000, lastInsertID: 0x100_0000, statusFlags: 2), []),
            (
                OKPacket(
                    affectedRows: .max,
                    lastInsertID: 0xFFFF,
                    statusFlags: 0x4002,
                    warnings: 1,
                    info: ascii("A1B2"),
                    sessionStateChanges: [0, 1, 0]
                ), Self.tracking
            ),
            (OKPacket(statusFlags: 0x4002, info: [], sessionStateChanges: []), Self.tracking),
            (OKPacket(statusFlags: 2, info: [UInt8](repeating: 0x41, count: 300)), Self.tracking),
        ]
        for (ok, caps) in samples {
            #expect(try OKPacket.decode(ok.encode(capabilities: caps), capabilities: caps) == ok)
        }
    }

    @Test func warningsOnlyWithProtocol41() {
        let ok = OKPacket(statusFlags: 2, warnings: 7)
        #expect(bytes(ok.encode(capabilities: [])) == hex("00 00 00 02 00"))
        #expect(bytes(ok.encode(capabilities: Self.caps41)) == hex("00 00 00 02 00 07 00"))
    }

    @Test func acceptsEOFReplacementHeaderAndRejectsOthers() throws {
        #expect(try OKPacket.decode(buffer(hex("fe 00 00 02 00 00 00")), capabilities: Self.caps41).statusFlags == 2)
        #expect(throws: WireError.malformed("ok: header 0xff")) {
            try OKPacket.decode(buffer(hex("ff 00 00 02 00 00 00")), capabilities: Self.caps41)
        }
    }

    @Test func everyTruncationThrows() throws {
        let payload = bytes(
            OKPacket(
                affectedRows: 300,
                lastInsertID: 70000,
                statusFlags: 0x4002,
                warnings: 1,
                info: ascii("info"),
                sessionStateChanges: [1, 2, 3]
            ).encode(capabilities: Self.tracking)
        )
        let infoStart = 1 + 3 + 4 + 2 + 2
        let stateStart = infoStart + 5
        for length in 0..<payload.count where length != infoStart && length != stateStart {
            #expect(throws: WireError.self) {
                try OKPacket.decode(buffer(Array(payload[..<length])), capabilities: Self.tracking)
            }
        }
        // Cut exactly before the optional info, or before the state block: still a valid OK.
        #expect(try OKPacket.decode(buffer(Array(payload[..<infoStart])), capabilities: Self.tracking).info == [])
        #expect(
            try OKPacket.decode(buffer(Array(payload[..<stateStart])), capabilities: Self.tracking)
                .sessionStateChanges == nil
        )
    }
}
