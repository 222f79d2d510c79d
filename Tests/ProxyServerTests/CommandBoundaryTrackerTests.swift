import MariaDBWire
import NIOCore
import Testing

@testable import ProxyServer

/// The relay's only look inside the session: finding COM_CHANGE_USER wherever the bytes split.
@Suite struct CommandBoundaryTrackerTests {
    static func packet(_ seq: UInt8, _ payload: [UInt8]) -> [UInt8] {
        let n = payload.count
        return [UInt8(n & 0xFF), UInt8((n >> 8) & 0xFF), UInt8(n >> 16), seq] + payload
    }

    static let query = packet(0, [0x03] + Array("SELECT 1".utf8))
    static let changeUser = packet(0, [0x11] + Array("alice\0".utf8) + [0] + [0] + [45, 0])

    @Test func plainCommandsAreForwardedWhole() {
        var tracker = CommandBoundaryTracker()
        let bytes = Self.query + Self.query + Self.packet(0, [0x0E])
        #expect(tracker.scan(ByteBuffer(bytes: bytes)) == .forward(count: bytes.count))
    }

    @Test func changeUserIsFoundAfterOtherCommands() {
        var tracker = CommandBoundaryTracker()
        let bytes = Self.query + Self.changeUser
        #expect(tracker.scan(ByteBuffer(bytes: bytes)) == .held(offset: Self.query.count, command: 0x11))
    }

    @Test func changeUserAtStart() {
        var tracker = CommandBoundaryTracker()
        #expect(tracker.scan(ByteBuffer(bytes: Self.changeUser)) == .held(offset: 0, command: 0x11))
    }

    @Test func payloadBytesThatLookLikeChangeUserAreIgnored() {
        var tracker = CommandBoundaryTracker()
        // A query whose text contains a fake header "05 00 00 00 11": not at a packet boundary.
        let sneaky = Self.packet(0, [0x03, 0x05, 0x00, 0x00, 0x00, 0x11, 0x41])
        #expect(tracker.scan(ByteBuffer(bytes: sneaky)) == .forward(count: sneaky.count))
    }

    @Test func nonZeroSequenceIsNotACommand() {
        var tracker = CommandBoundaryTracker()
        // LOAD DATA LOCAL contents or an auth reply: seq 2, first byte 0x11.
        let data = Self.packet(2, [0x11, 0x01, 0x02])
        #expect(tracker.scan(ByteBuffer(bytes: data)) == .forward(count: data.count))
    }

    @Test func everySplitPointFindsTheChangeUser() {
        let stream = Self.query + Self.query + Self.changeUser
        for split in 1..<stream.count {
            var tracker = CommandBoundaryTracker()
            var carry: [UInt8] = []
            var forwarded = 0
            var found: Int?
            for chunk in [Array(stream[..<split]), Array(stream[split...])] {
                let input = carry + chunk
                switch tracker.scan(ByteBuffer(bytes: input)) {
                case .forward(let count):
                    forwarded += count
                    carry = Array(input[count...])
                case .held(let offset, _):
                    found = forwarded + offset
                    carry = []
                }
                if found != nil { break }
            }
            #expect(found == Self.query.count * 2, "split at \(split)")
            #expect(carry.count < 5)
        }
    }

    @Test func largePacketsSpanningReadsAreSkipped() {
        var tracker = CommandBoundaryTracker()
        let big = Self.packet(0, [0x03] + Array(repeating: 0x11, count: 100_000))
        #expect(tracker.scan(ByteBuffer(bytes: Array(big[..<50_000]))) == .forward(count: 50_000))
        let rest = Array(big[50_000...]) + Self.changeUser
        #expect(tracker.scan(ByteBuffer(bytes: rest)) == .held(offset: big.count - 50_000, command: 0x11))
    }

    @Test func localInfileContentsWrapThroughSequenceZeroWithoutBeingCommands() {
        var tracker = CommandBoundaryTracker()
        var stream = Self.packet(0, [0x03] + Array("LOAD DATA LOCAL INFILE 'x' INTO TABLE t".utf8))
        var seq: UInt8 = 2
        for _ in 0..<300 {
            stream += Self.packet(seq, [0x11, 0x41, 0x42])  // file bytes that look like COM_CHANGE_USER
            seq &+= 1
        }
        stream += Self.packet(seq, [])  // end of file
        let before = stream.count
        stream += Self.changeUser
        #expect(tracker.scan(ByteBuffer(bytes: stream)) == .held(offset: before, command: 0x11))
    }

    @Test func nonZeroSequenceAfterAnotherCommandIsNotAFileAndEndsNothing() {
        var tracker = CommandBoundaryTracker()
        // COM_PING, then a stray seq-2 packet (the server would close), then a change-user: found.
        let stream = Self.packet(0, [0x0E]) + Self.packet(2, [0x41]) + Self.changeUser
        #expect(
            tracker.scan(ByteBuffer(bytes: stream))
                == .held(offset: stream.count - Self.changeUser.count, command: 0x11)
        )
    }

    @Test func continuationPacketsOfALargeQueryAreNotAFile() {
        var tracker = CommandBoundaryTracker()
        let full = [UInt8(0xFF), 0xFF, 0xFF, 0x00, 0x03] + Array(repeating: UInt8(0x20), count: 0xFF_FFFF - 1)
        let stream = full + Self.packet(1, [0x20, 0x20]) + Self.changeUser
        #expect(
            tracker.scan(ByteBuffer(bytes: stream))
                == .held(offset: stream.count - Self.changeUser.count, command: 0x11)
        )
    }
}
