import NIOConcurrencyHelpers
import NIOCore
import ProxyTLS

/// `max_handshakes`: how many TLS handshakes may compute at once, across all event loops.
///
/// A connection asks for a slot only when its whole ClientHello has arrived (``TLSServerHandler``)
/// and holds it until its handshake completes, fails or passes
/// ``TLSServerHandler/handshakeDeadline`` (5 s). Beyond the limit, handshakes wait in arrival
/// order with their ClientHello buffered; nothing else waits: listeners keep accepting (the unix
/// socket included), plaintext logins and established sessions are not affected, and a client that
/// stalls before or inside its ClientHello holds no slot at all.
final class HandshakeGate: TLSHandshakeAdmission {
    private struct Waiter {
        let ticket: UInt64
        let eventLoop: EventLoop
        let granted: @Sendable () -> Void
    }

    private struct State {
        var limit: Int
        var holders: Set<UInt64> = []
        var waiting = CircularBuffer<Waiter>()
        var lastTicket: UInt64 = 0

        /// Moves waiters into free slots, first come first served.
        mutating func admitWaiters() -> [Waiter] {
            var admitted: [Waiter] = []
            while holders.count < limit, let next = waiting.popFirst() {
                holders.insert(next.ticket)
                admitted.append(next)
            }
            return admitted
        }
    }

    private let state: NIOLockedValueBox<State>

    init(limit: Int) {
        state = NIOLockedValueBox(State(limit: limit))
    }

    /// Handshakes computing now.
    var count: Int { state.withLockedValue { $0.holders.count } }

    /// Handshakes whose ClientHello is complete, waiting for a slot.
    var waitingCount: Int { state.withLockedValue { $0.waiting.count } }

    func setLimit(_ value: Int) {
        let admitted = state.withLockedValue { state in
            state.limit = value
            return state.admitWaiters()
        }
        Self.notify(admitted)
    }

    func requestSlot(on eventLoop: EventLoop, whenGranted: @escaping @Sendable () -> Void) -> (ticket: UInt64, grantedNow: Bool) {
        state.withLockedValue { state in
            state.lastTicket += 1
            let ticket = state.lastTicket
            if state.waiting.isEmpty, state.holders.count < state.limit {
                state.holders.insert(ticket)
                return (ticket, true)
            }
            state.waiting.append(Waiter(ticket: ticket, eventLoop: eventLoop, granted: whenGranted))
            return (ticket, false)
        }
    }

    func release(_ ticket: UInt64) {
        let admitted = state.withLockedValue { state -> [Waiter] in
            if state.holders.remove(ticket) != nil {
                return state.admitWaiters()
            }
            if let index = state.waiting.firstIndex(where: { $0.ticket == ticket }) {
                state.waiting.remove(at: index)
            }
            return []
        }
        Self.notify(admitted)
    }

    private static func notify(_ admitted: [Waiter]) {
        for waiter in admitted {
            waiter.eventLoop.execute(waiter.granted)
        }
    }
}
