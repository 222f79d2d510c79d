import AccessPolicy
import MariaDBWire
import NIOCore
import ProxyTLS
import Testing

@testable import ProxyServer

/// The relay states of ``ProxyConnectionStateMachine``: backpressure, the COM_CHANGE_USER pause and
/// flushes.
extension ProxyConnectionStateMachineTests {
    // MARK: - Backpressure

    @Test func aBackendThatCannotTakeMoreStopsClientReadsOnly() {
        var m = Self.relaying()
        #expect(m.writabilityChanged(.backend, isWritable: false) == .none)
        #expect(!m.mayRead(from: .client))
        #expect(m.mayRead(from: .backend))
        #expect(m.writabilityChanged(.backend, isWritable: true) == .resumeReading(client: true, backend: false))
        #expect(m.mayRead(from: .client))
    }

    @Test func aClientThatCannotTakeMoreStopsReadsOnBothSides() {
        var m = Self.relaying()
        _ = m.writabilityChanged(.client, isWritable: false)
        #expect(!m.mayRead(from: .client))
        #expect(!m.mayRead(from: .backend))
        #expect(m.writabilityChanged(.client, isWritable: true) == .resumeReading(client: true, backend: true))
    }

    @Test func readsAreNotHeldDuringTheLogin() {
        var m = Self.greeted()
        _ = m.writabilityChanged(.backend, isWritable: false)
        _ = m.writabilityChanged(.client, isWritable: false)
        #expect(m.mayRead(from: .client))
        #expect(m.mayRead(from: .backend))
    }

    // MARK: - The COM_CHANGE_USER pause

    @Test func theClientsStreamAndEOFWaitBehindARefusedChangeOfUser() {
        var m = Self.relaying()
        let answer = Packet(sequenceID: 1, payload: ByteBuffer(bytes: [0xFF]))
        let paused = m.changeUserRefused(answer: answer, thenClose: false)
        #expect(paused)
        #expect(!m.mayRead(from: .client))
        #expect(m.clientRead(ByteBuffer(bytes: [1, 2])) == .none)
        #expect(m.clientRead(ByteBuffer(bytes: [3])) == .none)
        #expect(m.inputClosed(.client) == .none)
        #expect(
            m.refusalDelayElapsed()
                == .answerRefusal(
                    answer,
                    then: .resume(heldBytes: ByteBuffer(bytes: [1, 2, 3]), clientInputEnded: true)
                )
        )
        #expect(Self.phase(m) == "relaying")
        #expect(m.inputClosed(.client) == .shutdownOutput(.backend))
    }

    @Test func theLastRefusalClosesTheSession() {
        var m = Self.relaying()
        let answer = Packet(sequenceID: 1, payload: ByteBuffer(bytes: [0xFF]))
        let paused = m.changeUserRefused(answer: answer, thenClose: true)
        #expect(paused)
        #expect(m.refusalDelayElapsed() == .answerRefusal(answer, then: .close))
        #expect(Self.phase(m) == "closing(client open, backend open)")
    }

    @Test func aPauseEndingAfterTheClientLeftDoesNothing() {
        var m = Self.relaying()
        let answer = Packet(sequenceID: 1, payload: ByteBuffer(bytes: [0xFF]))
        let paused = m.changeUserRefused(answer: answer, thenClose: false)
        #expect(paused)
        _ = m.channelClosed(.client)
        #expect(m.refusalDelayElapsed() == .none)
        let pausedWhileClosing = m.changeUserRefused(answer: answer, thenClose: false)
        #expect(!pausedWhileClosing)
    }

    @Test func anOversizedHeldCommandClosesBothNow() {
        var m = Self.relaying()
        #expect(m.relayFailed() == .close(client: .now, backend: .now))
        #expect(m.relayFailed() == .none)
    }

    @Test func flushesFollowReadBatchesOnlyInTheRelay() {
        #expect(Self.greeted().readComplete(.client) == .none)
        #expect(Self.relaying().readComplete(.client) == .flush(.backend))
        #expect(Self.relaying().readComplete(.backend) == .flush(.client))
    }
}
