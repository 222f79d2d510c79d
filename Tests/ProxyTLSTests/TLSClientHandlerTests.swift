import NIOCore
import NIOEmbedded
import Testing

@testable import ProxyTLS

/// ``TLSClientHandler`` and ``TLSServerHandler`` on two `EmbeddedChannel`s, the test moving the
/// bytes between them: the backend leg and the client leg of the proxy, speaking to each other.
@Suite struct TLSClientHandlerTests {
    private struct Pair {
        let client = EmbeddedChannel()
        let server = EmbeddedChannel()
        let clientRecorder = InboundRecorder()
        let serverRecorder = InboundRecorder()

        init() throws {
            var backend = BackendTLSSettings()
            backend.isEnabled = true
            let clientHandler = TLSClientHandler(context: try TLSClientContext(settings: backend), host: "localhost")
            let serverHandler = TLSServerHandler(
                context: try TestCertificate.serverContext(),
                initialCiphertext: nil,
                plaintextAfterHandshakeFailure: nil
            )
            try server.pipeline.syncOperations.addHandlers([serverHandler, serverRecorder])
            try client.pipeline.syncOperations.addHandlers([clientHandler, clientRecorder])
        }

        /// Moves bytes both ways until both sides are quiet; returns the buffers each side wrote.
        @discardableResult
        func shuttle() throws -> (fromClient: [ByteBuffer], fromServer: [ByteBuffer]) {
            var all: ([ByteBuffer], [ByteBuffer]) = ([], [])
            for _ in 0..<10 {
                let fromClient = try client.outboundBuffers()
                for buffer in fromClient { try server.writeInbound(buffer) }
                let fromServer = try server.outboundBuffers()
                for buffer in fromServer { try client.writeInbound(buffer) }
                all.0 += fromClient
                all.1 += fromServer
                if fromClient.isEmpty && fromServer.isEmpty { break }
            }
            return all
        }
    }

    @Test func bothHandlersCompleteTheHandshakeAndRelayBothWays() throws {
        let pair = try Pair()
        // The login response is written before the handshake completes, as ProxyConnection does.
        let early = pair.client.writeAndFlush(ByteBuffer(string: "login response"))
        try pair.shuttle()
        #expect(pair.clientRecorder.handshakes.count == 1)
        #expect(pair.serverRecorder.handshakes.count == 1)
        #expect(pair.clientRecorder.handshakes.first?.cipher == pair.serverRecorder.handshakes.first?.cipher)
        try early.wait()
        #expect(pair.serverRecorder.received == Array("login response".utf8))

        let answer = (0..<40_000).map { UInt8(truncatingIfNeeded: $0) }
        try pair.server.writeAndFlush(ByteBuffer(bytes: answer)).wait()
        try pair.shuttle()
        #expect(pair.clientRecorder.received == answer)
        #expect(pair.clientRecorder.reads == 1, "all records of one channel read are passed on as one buffer")
        _ = try pair.client.finish(acceptAlreadyClosed: true)
        _ = try pair.server.finish(acceptAlreadyClosed: true)
    }

    @Test func theBackendsCloseNotifyBecomesInputClosed() throws {
        let pair = try Pair()
        try pair.shuttle()
        let closing = pair.server.close()
        try pair.shuttle()
        try closing.wait()
        #expect(pair.clientRecorder.inputClosed)
        _ = try pair.client.finish(acceptAlreadyClosed: true)
    }

    @Test func aWriteAfterTheChannelClosedFails() throws {
        let pair = try Pair()
        try pair.shuttle()
        try pair.client.close().wait()
        #expect(throws: (any Error).self) { try pair.client.writeAndFlush(ByteBuffer(string: "late")).wait() }
    }
}
