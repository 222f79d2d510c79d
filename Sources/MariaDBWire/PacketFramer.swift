import NIOCore

/// Splits a byte stream into MariaDB packets.
///
/// The framer does not reassemble multi-packet payloads: during the connection phase no legitimate packet is that
/// large, so by default a header announcing 0xFFFFFF bytes is refused as soon as it is seen, before its payload is
/// buffered.
public struct PacketFramer: Sendable {
    /// Largest payload accepted in one packet.
    public let maxPayloadLength: Int
    private var buffer: ByteBuffer

    /// - Parameter maxPayloadLength: cap for a single packet's payload, clamped to 0...0xFFFFFF. The default
    ///   (0xFFFFFE) rejects multi-packet payloads.
    public init(maxPayloadLength: Int = 0xFF_FFFE) {
        self.maxPayloadLength = Swift.max(0, Swift.min(maxPayloadLength, maxPacketPayloadLength))
        self.buffer = ByteBufferAllocator().buffer(capacity: 0)
    }

    /// Appends received bytes to the internal buffer.
    public mutating func append(_ bytes: ByteBuffer) {
        buffer.writeImmutableBuffer(bytes)
    }

    /// Bytes received but not yet returned as packets.
    public var bufferedByteCount: Int { buffer.readableBytes }

    /// Returns the next complete packet, or nil when more bytes are needed.
    /// - Throws: ``WireError/packetTooLarge(_:)`` when a header announces more than ``maxPayloadLength`` bytes.
    ///   The offending header stays buffered, so calling again throws again.
    public mutating func nextPacket() throws(WireError) -> Packet? {
        let start = buffer.readerIndex
        guard buffer.readableBytes >= 4,
            let b0 = buffer.getInteger(at: start, as: UInt8.self),
            let b1 = buffer.getInteger(at: start + 1, as: UInt8.self),
            let b2 = buffer.getInteger(at: start + 2, as: UInt8.self),
            let sequenceID = buffer.getInteger(at: start + 3, as: UInt8.self)
        else { return nil }
        let length = Int(b0) | Int(b1) << 8 | Int(b2) << 16
        if length > maxPayloadLength { throw .packetTooLarge(length) }
        guard buffer.readableBytes >= 4 + length else { return nil }
        buffer.moveReaderIndex(forwardBy: 4)
        guard let payload = buffer.readSlice(length: length) else { return nil }
        compact()
        return Packet(sequenceID: sequenceID, payload: payload)
    }

    /// Returns everything not yet returned as a packet (for example the TLS records that follow an SSLRequest in
    /// the same read) and empties the framer.
    public mutating func takeRemainingBytes() -> ByteBuffer {
        let rest = buffer.slice()
        buffer = ByteBufferAllocator().buffer(capacity: 0)
        return rest
    }

    /// Keeps the buffer from growing without bound on a long stream of packets.
    private mutating func compact() {
        if buffer.readableBytes == 0 {
            buffer.clear()
        } else if buffer.readerIndex >= 64 * 1024 {
            buffer.discardReadBytes()
        }
    }
}
