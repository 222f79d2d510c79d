import NIOCore
import NIOEmbedded
import Testing

@testable import ProxyServer

/// `max_handshakes` as a queue of handshakes, not a pause of the listeners.
@Suite struct HandshakeGateTests {
    /// Requests a slot and records when it is granted (immediately or later on the loop).
    private final class Request: @unchecked Sendable {
        var ticket: UInt64 = 0
        var granted = false
        init(_ gate: HandshakeGate, on loop: EmbeddedEventLoop, continuing: Bool = false) {
            let result = gate.requestSlot(on: loop, continuing: continuing) { [self] in granted = true }
            ticket = result.ticket
            granted = result.grantedNow
        }
    }

    @Test func slotsUpToTheLimitAreGrantedAtOnce() {
        let loop = EmbeddedEventLoop()
        let gate = HandshakeGate(limit: 2)
        let a = Request(gate, on: loop)
        let b = Request(gate, on: loop)
        let c = Request(gate, on: loop)
        #expect(a.granted && b.granted)
        #expect(!c.granted)
        #expect(gate.count == 2 && gate.waitingCount == 1)
    }

    @Test func releasingASlotAdmitsTheOldestWaiterOnItsLoop() {
        let loop = EmbeddedEventLoop()
        let gate = HandshakeGate(limit: 1)
        let a = Request(gate, on: loop)
        let b = Request(gate, on: loop)
        let c = Request(gate, on: loop)
        gate.release(a.ticket)
        #expect(!b.granted, "granted on the waiter's event loop, not inline")
        loop.run()
        #expect(b.granted && !c.granted)
        #expect(gate.count == 1 && gate.waitingCount == 1)
        gate.release(b.ticket)
        loop.run()
        #expect(c.granted)
    }

    @Test func aWaiterThatLeavesIsForgotten() {
        let loop = EmbeddedEventLoop()
        let gate = HandshakeGate(limit: 1)
        let a = Request(gate, on: loop)
        let b = Request(gate, on: loop)
        let c = Request(gate, on: loop)
        gate.release(b.ticket)
        gate.release(a.ticket)
        loop.run()
        #expect(!b.granted && c.granted)
        #expect(gate.count == 1 && gate.waitingCount == 0)
    }

    @Test func releaseIsIdempotent() {
        let loop = EmbeddedEventLoop()
        let gate = HandshakeGate(limit: 1)
        let a = Request(gate, on: loop)
        gate.release(a.ticket)
        gate.release(a.ticket)
        gate.release(12345)
        #expect(gate.count == 0)
        let b = Request(gate, on: loop)
        #expect(b.granted)
    }

    @Test func raisingTheLimitOnReloadAdmitsWaiters() {
        let loop = EmbeddedEventLoop()
        let gate = HandshakeGate(limit: 1)
        _ = Request(gate, on: loop)
        let b = Request(gate, on: loop)
        let c = Request(gate, on: loop)
        gate.setLimit(3)
        loop.run()
        #expect(b.granted && c.granted)
        #expect(gate.count == 3)
    }

    @Test func newRequestsQueueBehindWaitersEvenWithAFreeSlot() {
        let loop = EmbeddedEventLoop()
        let gate = HandshakeGate(limit: 1)
        let a = Request(gate, on: loop)
        let b = Request(gate, on: loop)
        gate.release(a.ticket)  // b is admitted, its callback not yet run
        let c = Request(gate, on: loop)
        #expect(!c.granted)
        loop.run()
        #expect(b.granted && !c.granted)
    }

    @Test func continuingHandshakesAreServedBeforeNewOnes() {
        let loop = EmbeddedEventLoop()
        let gate = HandshakeGate(limit: 1)
        let a = Request(gate, on: loop)
        let new1 = Request(gate, on: loop)
        let new2 = Request(gate, on: loop)
        let next1 = Request(gate, on: loop, continuing: true)
        let next2 = Request(gate, on: loop, continuing: true)
        #expect(gate.waitingCount == 4)
        gate.release(a.ticket)
        loop.run()
        #expect(next1.granted && !next2.granted && !new1.granted)
        gate.release(next1.ticket)
        loop.run()
        #expect(next2.granted && !new1.granted)
        gate.release(next2.ticket)
        loop.run()
        #expect(new1.granted && !new2.granted)
    }

    @Test func aContinuingRequestWithAFreeSlotIsGrantedAtOnce() {
        let loop = EmbeddedEventLoop()
        let gate = HandshakeGate(limit: 2)
        let a = Request(gate, on: loop)
        gate.release(a.ticket)  // the server's flight is written; the client answers later
        let next = Request(gate, on: loop, continuing: true)
        #expect(next.granted)
        #expect(gate.count == 1)
    }

    @Test func aWaitingContinuingRequestThatLeavesIsForgotten() {
        let loop = EmbeddedEventLoop()
        let gate = HandshakeGate(limit: 1)
        let a = Request(gate, on: loop)
        let next = Request(gate, on: loop, continuing: true)
        let new = Request(gate, on: loop)
        gate.release(next.ticket)
        gate.release(a.ticket)
        loop.run()
        #expect(!next.granted && new.granted)
        #expect(gate.count == 1 && gate.waitingCount == 0)
    }
}
