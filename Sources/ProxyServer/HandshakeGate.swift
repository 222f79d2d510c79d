import Metrics
import NIOConcurrencyHelpers
import NIOCore
import ProxyTLS

/// `max_handshakes`: how many TLS handshakes may compute at once, across all event loops.
///
/// A connection holds a slot only while OpenSSL has its input to process (``TLSServerHandler``):
/// from the moment its whole ClientHello has arrived until the server's flight is written, and
/// again from the arrival of the client's next flight until OpenSSL has consumed it. While the
/// proxy waits for the client it holds none, so clients that stall inside a handshake cannot
/// keep the slots from others. Beyond the limit, requests wait with their bytes buffered: later
/// steps of handshakes already under way first, then new handshakes, each in arrival order.
/// Nothing else waits: listeners keep accepting (the unix socket included), plaintext logins and
/// established sessions are not affected.
///
/// Later steps go first because their handshake has already cost a server flight (the key
/// exchange and the signature): finishing it makes that work count and frees the connection,
/// whereas a flood of new ClientHellos queued ahead of it could make every handshake under way
/// miss ``TLSServerHandler/handshakeDeadline`` and nobody would log in. A client cannot jump the
/// queue with this: it needs a handshake that was admitted in turn, and each later step asks for a
/// slot only when new bytes from it arrive.
final class HandshakeGate: TLSHandshakeAdmission {
    private struct Waiter {
        let ticket: UInt64
        let eventLoop: EventLoop
        let granted: @Sendable () -> Void
    }

    private struct State {
        var limit: Int
        var holders: Set<UInt64> = []
        /// Later steps of handshakes already under way; served before `waiting`.
        var continuing = CircularBuffer<Waiter>()
        /// New handshakes (a complete ClientHello).
        var waiting = CircularBuffer<Waiter>()
        var lastTicket: UInt64 = 0

        /// Moves waiters into free slots: continuing handshakes first, each queue first come first served.
        mutating func admitWaiters() -> [Waiter] {
            var admitted: [Waiter] = []
            while holders.count < limit, let next = continuing.popFirst() ?? waiting.popFirst() {
                holders.insert(next.ticket)
                admitted.append(next)
            }
            return admitted
        }
    }

    private let state: NIOLockedValueBox<State>

    /// The gauges follow every change, under the lock so they never go back in time.
    private static func recordGauges(_ state: State) {
        ProxyMetrics.handshakesInFlight.record(state.holders.count)
        ProxyMetrics.handshakesWaiting.record(state.waiting.count + state.continuing.count)
    }

    init(limit: Int) {
        state = NIOLockedValueBox(State(limit: limit))
    }

    /// Handshakes computing now.
    var count: Int { state.withLockedValue { $0.holders.count } }

    /// Handshake steps waiting for a slot (new handshakes and continuing ones).
    var waitingCount: Int { state.withLockedValue { $0.waiting.count + $0.continuing.count } }

    func setLimit(_ value: Int) {
        let admitted = state.withLockedValue { state in
            state.limit = value
            let admitted = state.admitWaiters()
            Self.recordGauges(state)
            return admitted
        }
        Self.notify(admitted)
    }

    func requestSlot(
        on eventLoop: EventLoop,
        continuing: Bool,
        whenGranted: @escaping @Sendable () -> Void
    ) -> (ticket: UInt64, grantedNow: Bool) {
        state.withLockedValue { state in
            state.lastTicket += 1
            let ticket = state.lastTicket
            let queueAhead = continuing ? state.continuing.count : state.continuing.count + state.waiting.count
            if queueAhead == 0, state.holders.count < state.limit {
                state.holders.insert(ticket)
                Self.recordGauges(state)
                return (ticket, true)
            }
            let waiter = Waiter(ticket: ticket, eventLoop: eventLoop, granted: whenGranted)
            if continuing {
                state.continuing.append(waiter)
            } else {
                state.waiting.append(waiter)
            }
            Self.recordGauges(state)
            return (ticket, false)
        }
    }

    func release(_ ticket: UInt64) {
        let admitted = state.withLockedValue { state -> [Waiter] in
            var admitted: [Waiter] = []
            if state.holders.remove(ticket) != nil {
                admitted = state.admitWaiters()
            } else if let index = state.continuing.firstIndex(where: { $0.ticket == ticket }) {
                state.continuing.remove(at: index)
            } else if let index = state.waiting.firstIndex(where: { $0.ticket == ticket }) {
                state.waiting.remove(at: index)
            }
            Self.recordGauges(state)
            return admitted
        }
        Self.notify(admitted)
    }

    private static func notify(_ admitted: [Waiter]) {
        for waiter in admitted {
            waiter.eventLoop.execute(waiter.granted)
        }
    }
}
