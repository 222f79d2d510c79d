import NIOConcurrencyHelpers
import NIOCore
import Synchronization

/// `max_handshakes`: counts TLS handshakes in progress across all event loops and pauses the
/// listeners (no more accepts; new clients wait in the kernel's accept queue) while the count is
/// at the limit, so a connection storm cannot starve established sessions.
final class HandshakeGate: Sendable {
    private let inFlight = Synchronization.Atomic<Int>(0)
    private let limit: Synchronization.Atomic<Int>
    private let listeners = NIOLockedValueBox<[Channel]>([])
    private let paused = Synchronization.Atomic<Bool>(false)

    init(limit: Int) {
        self.limit = Synchronization.Atomic(limit)
    }

    func setLimit(_ value: Int) {
        limit.store(value, ordering: .relaxed)
        update()
    }

    func register(listeners channels: [Channel]) {
        listeners.withLockedValue { $0 = channels }
        update()
    }

    var count: Int { inFlight.load(ordering: .relaxed) }

    func begin() {
        inFlight.wrappingAdd(1, ordering: .relaxed)
        update()
    }

    func end() {
        inFlight.wrappingSubtract(1, ordering: .relaxed)
        update()
    }

    private var shouldPause: Bool {
        inFlight.load(ordering: .relaxed) >= limit.load(ordering: .relaxed)
    }

    /// Pauses or resumes accepting when the count crosses the limit. The change itself runs on each
    /// listener's event loop and reads the state afresh there, so the last one to run always
    /// reflects the latest count, however crossings on different threads interleave.
    private func update() {
        let pause = shouldPause
        guard paused.exchange(pause, ordering: .relaxed) != pause else { return }
        for channel in listeners.withLockedValue({ $0 }) {
            channel.eventLoop.execute { [self] in
                let pauseNow = shouldPause
                channel.setOption(ChannelOptions.autoRead, value: !pauseNow).whenFailure { _ in }
                if !pauseNow { channel.read() }
            }
        }
    }
}
