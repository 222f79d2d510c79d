import NIOCore
import Testing

@testable import ProxyTLS

/// The per-thread decryption buffer is reused once released, and never while still referenced.
@Suite struct PlaintextScratchTests {
    private func address(_ buffer: ByteBuffer) -> UnsafeRawPointer? {
        buffer.withUnsafeReadableBytes { $0.baseAddress }
    }

    @Test func aReleasedBufferIsReused() {
        var first = PlaintextScratch.take(minimumCapacity: 4096, allocator: ByteBufferAllocator())
        first.writeString("plaintext")
        let storage = address(first)
        PlaintextScratch.giveBack(first)
        first = ByteBuffer()  // the pipeline let go of it

        // A fresh buffer would have the 1 KiB asked for; the reused one keeps its 4 KiB.
        var second = PlaintextScratch.take(minimumCapacity: 1024, allocator: ByteBufferAllocator())
        #expect(second.readableBytes == 0)
        #expect(second.capacity >= 4096, "the same storage, no allocation")
        second.writeString("x")
        #expect(address(second) == storage)
        PlaintextScratch.giveBack(second)
    }

    @Test func aBufferStillHeldDownstreamIsLeftAlone() {
        var first = PlaintextScratch.take(minimumCapacity: 1024, allocator: ByteBufferAllocator())
        first.writeString("held by the relay")
        PlaintextScratch.giveBack(first)

        var second = PlaintextScratch.take(minimumCapacity: 1024, allocator: ByteBufferAllocator())
        second.writeString("next record")
        #expect(first.readString(length: first.readableBytes) == "held by the relay")
        #expect(address(second) != address(first))
        PlaintextScratch.giveBack(second)
    }

    @Test func aBufferGrownByABulkTransferIsNotKept() {
        var big = PlaintextScratch.take(minimumCapacity: 1024, allocator: ByteBufferAllocator())
        big.writeRepeatingByte(0, count: PlaintextScratch.largestKeptCapacity + 1)
        let storage = address(big)
        PlaintextScratch.giveBack(big)
        big = ByteBuffer()
        var next = PlaintextScratch.take(minimumCapacity: 1024, allocator: ByteBufferAllocator())
        next.writeString("x")
        #expect(address(next) != storage)
        #expect(next.capacity < PlaintextScratch.largestKeptCapacity)
    }
}
