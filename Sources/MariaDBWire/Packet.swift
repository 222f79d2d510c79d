import NIOCore

/// One MariaDB protocol packet: the sequence id from its 4-byte header and its payload.
public struct Packet: Sendable, Equatable {
    public var sequenceID: UInt8
    public var payload: ByteBuffer

    public init(sequenceID: UInt8, payload: ByteBuffer) {
        self.sequenceID = sequenceID
        self.payload = payload
    }
}

/// Largest payload one packet header can carry; a payload of exactly this size means "more packets follow".
public let maxPacketPayloadLength = 0xFF_FFFF

extension ByteBuffer {
    /// Writes `payload` framed as a MariaDB packet: 3-byte little-endian length, sequence id, payload.
    ///
    /// A payload of 0xFFFFFF bytes or more cannot fit one header, so it is split the way the protocol requires:
    /// full 0xFFFFFF-byte chunks with consecutive sequence ids, ended by a shorter (possibly empty) packet.
    /// - Returns: the sequence id that the next packet should use.
    @discardableResult
    public mutating func writeMariaDBPacket(sequenceID: UInt8, payload: ByteBuffer) -> UInt8 {
        var remaining = payload
        var sequence = sequenceID
        while true {
            let chunkLength = min(remaining.readableBytes, maxPacketPayloadLength)
            writeInteger(UInt8(truncatingIfNeeded: chunkLength))
            writeInteger(UInt8(truncatingIfNeeded: chunkLength >> 8))
            writeInteger(UInt8(truncatingIfNeeded: chunkLength >> 16))
            writeInteger(sequence)
            if let chunk = remaining.readSlice(length: chunkLength) {
                writeImmutableBuffer(chunk)
            }
            sequence &+= 1
            // Only a full-size chunk needs a follower; the empty terminator is written by the next iteration.
            if chunkLength < maxPacketPayloadLength { return sequence }
        }
    }
}

/// Frames `payload` as a MariaDB packet (see ``NIOCore/ByteBuffer/writeMariaDBPacket(sequenceID:payload:)``).
public func encodePacket(sequenceID: UInt8, payload: ByteBuffer, allocator: ByteBufferAllocator = .init()) -> ByteBuffer
{
    var buffer = allocator.buffer(capacity: payload.readableBytes + 4)
    buffer.writeMariaDBPacket(sequenceID: sequenceID, payload: payload)
    return buffer
}
