import COpenSSL
import NIOCore
import NIOEmbedded
import Testing

@testable import ProxyTLS

/// `max_handshakes` in ``TLSServerHandler``: a slot is held only while OpenSSL processes the
/// client's input, never while the proxy waits for the client.
@Suite struct TLSServerHandlerAdmissionTests {
    /// An admission that queues every request until the test grants it.
    private final class ManualAdmission: TLSHandshakeAdmission, @unchecked Sendable {
        struct Request {
            let ticket: UInt64
            let continuing: Bool
            let whenGranted: @Sendable () -> Void
        }
        var requests: [Request] = []
        var released: [UInt64] = []

        func requestSlot(
            on eventLoop: EventLoop,
            continuing: Bool,
            whenGranted: @escaping @Sendable () -> Void
        ) -> (ticket: UInt64, grantedNow: Bool) {
            let ticket = UInt64(requests.count + 1)
            requests.append(Request(ticket: ticket, continuing: continuing, whenGranted: whenGranted))
            return (ticket, false)
        }

        func release(_ ticket: UInt64) { released.append(ticket) }
    }

    /// Records the handshake completion the TLS handler reports.
    private final class CompletionRecorder: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        var completed = false
        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if case .handshakeCompleted = event as? TLSEvent { completed = true }
            context.fireUserInboundEventTriggered(event)
        }
    }

    private static func serverContext() throws -> TLSServerContext {
        try TestCertificate.serverContext()
    }

    private func setUp() throws -> (EmbeddedChannel, ManualAdmission, CompletionRecorder) {
        let admission = ManualAdmission()
        let recorder = CompletionRecorder()
        let channel = EmbeddedChannel()
        let handler = TLSServerHandler(
            context: try Self.serverContext(),
            initialCiphertext: nil,
            plaintextAfterHandshakeFailure: nil,
            admission: admission
        )
        try channel.pipeline.syncOperations.addHandlers([handler, recorder])
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 3306)).wait()
        return (channel, admission, recorder)
    }

    private func drainOutbound(_ channel: EmbeddedChannel) throws -> ByteBuffer {
        var all = ByteBuffer()
        while var next = try channel.readOutbound(as: ByteBuffer.self) {
            all.writeBuffer(&next)
        }
        return all
    }

    @Test func eachComputingStepIsAdmittedAndTheSlotIsFreeWhileTheClientAnswers() throws {
        let (channel, admission, recorder) = try setUp()
        let client = MemoryTLSClient()

        try channel.writeInbound(client.step())
        try #require(admission.requests.count == 1)
        #expect(admission.requests[0].continuing == false)
        #expect(try drainOutbound(channel).readableBytes == 0, "no server flight before the slot")

        admission.requests[0].whenGranted()
        let serverFlight = try drainOutbound(channel)
        #expect(serverFlight.readableBytes > 0)
        #expect(admission.released == [1], "the slot goes back once the flight is written")
        #expect(!recorder.completed)

        let clientFinished = client.step(serverFlight)
        #expect(clientFinished.readableBytes > 0)
        try channel.writeInbound(clientFinished)
        try #require(admission.requests.count == 2)
        #expect(admission.requests[1].continuing == true)
        #expect(!recorder.completed, "the client's flight waits for a slot")

        admission.requests[1].whenGranted()
        #expect(recorder.completed)
        #expect(admission.released == [1, 2])
        _ = try channel.finish(acceptAlreadyClosed: true)
    }

    @Test func theDeadlineRunsFromTheFirstSlotWhileNoSlotIsHeld() throws {
        let (channel, admission, recorder) = try setUp()
        let client = MemoryTLSClient()
        try channel.writeInbound(client.step())
        channel.embeddedEventLoop.advanceTime(by: .seconds(10))
        #expect(channel.isActive, "waiting for the first slot does not count")
        try #require(admission.requests.count == 1)

        admission.requests[0].whenGranted()
        #expect(admission.released == [1])
        channel.embeddedEventLoop.advanceTime(by: TLSServerHandler.handshakeDeadline - .milliseconds(1))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(1))
        #expect(!channel.isActive, "dropped at the deadline although it held no slot")
        #expect(!recorder.completed)
        #expect(throws: TLSError.self) { try channel.throwIfErrorCaught() }
        #expect(admission.released == [1])
    }
}
