import NIOCore
import Testing

@testable import MariaDBWire

@Suite struct PacketFramerTests {
    /// openssl s_client -starttls mysql sends this fixed SSLRequest (header + 32-byte payload).
    static let opensslSSLRequest = hex("20 00 00 01 85 ae 7f 00 00 00 00 01 21") + [UInt8](repeating: 0, count: 23)
    static let tlsClientHello = hex("16 03 01 00 f8 01 00 00 f4 03 03")

    @Test func encodesHeader() {
        let packet = encodePacket(sequenceID: 3, payload: buffer([0x0E]))
        #expect(bytes(packet) == [0x01, 0x00, 0x00, 0x03, 0x0E])
        var out = ByteBuffer()
        let next = out.writeMariaDBPacket(sequenceID: 0xFF, payload: buffer([UInt8](repeating: 1, count: 0x1_0203)))
        #expect(next == 0)
        #expect(bytes(out).prefix(4) == [0x03, 0x02, 0x01, 0xFF])
        #expect(out.readableBytes == 4 + 0x1_0203)
    }

    @Test func emptyPayload() throws {
        #expect(bytes(encodePacket(sequenceID: 9, payload: ByteBuffer())) == [0, 0, 0, 9])
        var framer = PacketFramer()
        framer.append(buffer([0, 0, 0, 9]))
        #expect(try framer.nextPacket() == Packet(sequenceID: 9, payload: ByteBuffer()))
    }

    @Test func splitsPayloadsThatDoNotFitOneHeader() throws {
        let size = maxPacketPayloadLength + 10
        var out = ByteBuffer()
        let next = out.writeMariaDBPacket(sequenceID: 5, payload: buffer([UInt8](repeating: 0xAB, count: size)))
        #expect(next == 7)
        var framer = PacketFramer(maxPayloadLength: maxPacketPayloadLength)
        framer.append(out)
        let first = try #require(try framer.nextPacket())
        let second = try #require(try framer.nextPacket())
        #expect(first.sequenceID == 5 && first.payload.readableBytes == maxPacketPayloadLength)
        #expect(second.sequenceID == 6 && second.payload.readableBytes == 10)
        #expect(try framer.nextPacket() == nil)

        // Exactly 0xFFFFFF bytes needs an empty terminating packet.
        var exact = ByteBuffer()
        #expect(
            exact.writeMariaDBPacket(
                sequenceID: 0,
                payload: buffer([UInt8](repeating: 1, count: maxPacketPayloadLength))
            ) == 2
        )
        #expect(exact.readableBytes == 4 + maxPacketPayloadLength + 4)
        #expect(bytes(exact.getSlice(at: 4 + maxPacketPayloadLength, length: 4)!) == [0, 0, 0, 1])
    }

    @Test func packetSplitAtEveryByteBoundary() throws {
        let stream = bytes(encodePacket(sequenceID: 1, payload: buffer(ascii("hello world"))))
        for cut in 0...stream.count {
            var framer = PacketFramer()
            framer.append(buffer(Array(stream[..<cut])))
            if cut < stream.count {
                #expect(try framer.nextPacket() == nil)
                #expect(framer.bufferedByteCount == cut)
            }
            framer.append(buffer(Array(stream[cut...])))
            let packet = try #require(try framer.nextPacket())
            #expect(packet.sequenceID == 1)
            #expect(bytes(packet.payload) == ascii("hello world"))
            #expect(try framer.nextPacket() == nil)
            #expect(framer.bufferedByteCount == 0)
        }
    }

    @Test func mergedPacketsComeOutInOrder() throws {
        var stream = ByteBuffer()
        for seq in UInt8(0)..<20 {
            stream.writeMariaDBPacket(sequenceID: seq, payload: buffer([UInt8](repeating: seq, count: Int(seq) * 3)))
        }
        var framer = PacketFramer()
        framer.append(stream)
        for seq in UInt8(0)..<20 {
            let packet = try #require(try framer.nextPacket())
            #expect(packet.sequenceID == seq)
            #expect(bytes(packet.payload) == [UInt8](repeating: seq, count: Int(seq) * 3))
        }
        #expect(try framer.nextPacket() == nil)
    }

    @Test func randomChunkingReassemblesTheStream() throws {
        var generator = SplitMix64(seed: 42)
        var stream = ByteBuffer()
        var expected: [Packet] = []
        for index in 0..<200 {
            let payload = (0..<Int.random(in: 0..<300, using: &generator)).map { _ in
                UInt8.random(in: 0...255, using: &generator)
            }
            let packet = Packet(sequenceID: UInt8(truncatingIfNeeded: index), payload: buffer(payload))
            expected.append(packet)
            stream.writeMariaDBPacket(sequenceID: packet.sequenceID, payload: packet.payload)
        }
        var framer = PacketFramer()
        var received: [Packet] = []
        while stream.readableBytes > 0 {
            let chunk = stream.readSlice(length: min(stream.readableBytes, Int.random(in: 1..<500, using: &generator)))!
            framer.append(chunk)
            while let packet = try framer.nextPacket() { received.append(packet) }
        }
        #expect(received == expected)
    }

    @Test func sslRequestFollowedByTLSBytes() throws {
        var framer = PacketFramer()
        framer.append(buffer(Self.opensslSSLRequest + Self.tlsClientHello))
        let packet = try #require(try framer.nextPacket())
        #expect(packet.sequenceID == 1)
        #expect(packet.payload.readableBytes == 32)
        #expect(ClientFirstPacket.requestsTLS(packet.payload))
        #expect(framer.bufferedByteCount == Self.tlsClientHello.count)
        // The TLS record header reads as a huge "packet"; it must not be consumed as one.
        let rest = framer.takeRemainingBytes()
        #expect(bytes(rest) == Self.tlsClientHello)
        #expect(rest.readerIndex == 0)
        #expect(framer.bufferedByteCount == 0)
        #expect(try framer.nextPacket() == nil)
        #expect(framer.takeRemainingBytes().readableBytes == 0)
    }

    @Test func partialPacketIsReturnedByTakeRemainingBytes() throws {
        var framer = PacketFramer()
        framer.append(buffer([0x05, 0x00, 0x00, 0x00, 0x01, 0x02]))
        #expect(try framer.nextPacket() == nil)
        #expect(bytes(framer.takeRemainingBytes()) == [0x05, 0x00, 0x00, 0x00, 0x01, 0x02])
    }

    @Test func rejectsMultiPacketLengthByDefault() {
        var framer = PacketFramer()
        framer.append(buffer([0xFF, 0xFF, 0xFF, 0x01]))
        #expect(throws: WireError.packetTooLarge(0xFF_FFFF)) { try framer.nextPacket() }
        // Still refused on a second call: the header stays buffered.
        #expect(throws: WireError.packetTooLarge(0xFF_FFFF)) { try framer.nextPacket() }
        #expect(framer.bufferedByteCount == 4)
    }

    @Test func maxPayloadLengthIsInclusive() throws {
        var framer = PacketFramer(maxPayloadLength: 10)
        framer.append(encodePacket(sequenceID: 0, payload: buffer([UInt8](repeating: 0, count: 10))))
        #expect(try framer.nextPacket()?.payload.readableBytes == 10)
        framer.append(buffer([11, 0, 0, 0]))
        #expect(throws: WireError.packetTooLarge(11)) { try framer.nextPacket() }
        #expect(PacketFramer().maxPayloadLength == 0xFF_FFFE)
        #expect(PacketFramer(maxPayloadLength: -5).maxPayloadLength == 0)
        #expect(PacketFramer(maxPayloadLength: Int.max).maxPayloadLength == 0xFF_FFFF)
    }

    @Test func longUnalignedStreamSurvivesCompaction() throws {
        // 500 packets fed in 1500-byte chunks: the buffer never drains, so the compaction path runs.
        var stream = ByteBuffer()
        for index in 0..<500 {
            stream.writeMariaDBPacket(
                sequenceID: UInt8(truncatingIfNeeded: index),
                payload: buffer([UInt8](repeating: UInt8(truncatingIfNeeded: index), count: 1000))
            )
        }
        var framer = PacketFramer()
        var count = 0
        while stream.readableBytes > 0 {
            framer.append(stream.readSlice(length: min(1500, stream.readableBytes))!)
            while let packet = try framer.nextPacket() {
                #expect(packet.sequenceID == UInt8(truncatingIfNeeded: count))
                #expect(bytes(packet.payload) == [UInt8](repeating: UInt8(truncatingIfNeeded: count), count: 1000))
                count += 1
            }
        }
        #expect(count == 500)
        #expect(framer.bufferedByteCount == 0)
    }
}
