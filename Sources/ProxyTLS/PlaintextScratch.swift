import Glibc
import NIOCore

/// One decryption buffer per thread (so per event loop), shared by every TLS connection on it.
///
/// A relayed record is usually written on and released before the next one arrives, so the
/// buffer is then uniquely referenced again and `clear` reuses its storage: no allocation per
/// record. When the previous plaintext is still held downstream (backpressure, or it is part of
/// a login packet being assembled), `clear(minimumCapacity:)` gives a fresh buffer sized to the
/// ciphertext at hand and the held one is left alone. Idle connections keep no buffer at all,
/// which matters for the memory per idle connection (P4 in docs/benchmarks.md).
enum PlaintextScratch {
    /// Buffers that grew past this (a bulk transfer) are not kept for the next record.
    static let largestKeptCapacity = 64 * 1024

    private final class Slot {
        var buffer: ByteBuffer?
    }

    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        let created = pthread_key_create(&key) { slot in
            guard let slot else { return }
            Unmanaged<Slot>.fromOpaque(slot).release()
        }
        precondition(created == 0, "pthread_key_create failed")
        return key
    }()

    private static var slot: Slot {
        if let existing = pthread_getspecific(key) {
            return Unmanaged<Slot>.fromOpaque(existing).takeUnretainedValue()
        }
        let slot = Slot()
        pthread_setspecific(key, Unmanaged.passRetained(slot).toOpaque())
        return slot
    }

    /// An empty buffer with room for `minimumCapacity` bytes: this thread's, when nothing else
    /// references it any more, otherwise a new one of that size.
    static func take(minimumCapacity: Int, allocator: ByteBufferAllocator) -> ByteBuffer {
        let slot = slot
        guard var buffer = slot.buffer else {
            return allocator.buffer(capacity: minimumCapacity)
        }
        slot.buffer = nil
        buffer.clear(minimumCapacity: minimumCapacity)
        return buffer
    }

    /// Keeps `buffer`'s storage for the next ``take(minimumCapacity:allocator:)`` on this thread.
    static func giveBack(_ buffer: ByteBuffer) {
        guard buffer.capacity <= largestKeptCapacity else { return }
        slot.buffer = buffer
    }
}
