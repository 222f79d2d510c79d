import COpenSSL
import NIOCore
import NIOEmbedded
import Testing

@testable import ProxyTLS

/// ``TLSServerHandler`` on an `EmbeddedChannel`, in memory against an OpenSSL client.
@Suite struct TLSServerHandlerTests {
    static let badHandshakeAnswer = ByteBuffer(string: "ERR 1043")

    private func setUp(_ configure: (inout TLSSettings) -> Void = { _ in }) throws -> (EmbeddedChannel, InboundRecorder)
    {
        let recorder = InboundRecorder()
        let channel = EmbeddedChannel()
        let handler = TLSServerHandler(
            context: try TestCertificate.serverContext(configure),
            initialCiphertext: nil,
            plaintextAfterHandshakeFailure: Self.badHandshakeAnswer
        )
        try channel.pipeline.syncOperations.addHandlers([handler, recorder])
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 3306)).wait()
        return (channel, recorder)
    }

    @Test func handshakeCompletesAndReportsTheFacts() throws {
        let (channel, recorder) = try setUp()
        let client = MemoryTLSClient()
        try converse(client, with: channel)
        #expect(client.handshake() == 1)
        try #require(recorder.handshakes.count == 1)
        #expect(recorder.handshakes[0].version == "TLSv1.3")
        #expect(recorder.handshakes[0].cipher == client.cipher)
        #expect(recorder.handshakes[0].peerSubject == nil)
        _ = try channel.finish(acceptAlreadyClosed: true)
    }

    @Test func dataFlowsBothWays() throws {
        let (channel, recorder) = try setUp()
        let client = MemoryTLSClient()
        try converse(client, with: channel)

        client.write(Array("SELECT 1".utf8))
        try channel.writeInbound(client.takeOutput())
        #expect(recorder.received == Array("SELECT 1".utf8))

        try channel.writeAndFlush(ByteBuffer(string: "result")).wait()
        client.feed(try channel.outboundBytes())
        #expect(client.read().bytes == Array("result".utf8))
        _ = try channel.finish(acceptAlreadyClosed: true)
    }

    @Test func aLargeWriteIsSplitIntoRecordsSentInOneChannelWrite() throws {
        let (channel, _) = try setUp()
        let client = MemoryTLSClient()
        try converse(client, with: channel)
        _ = try channel.outboundBuffers()

        let payload = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        try channel.writeAndFlush(ByteBuffer(bytes: payload)).wait()
        let buffers = try channel.outboundBuffers()
        #expect(buffers.count == 1, "one channel write per flush")
        let sent = records(in: buffers[0])
        #expect(sent.count == 7, "100,000 bytes in records of at most 16 KiB")
        #expect(sent.allSatisfy { $0.type == 23 && $0.length <= 16_384 + 256 })
        client.feed(buffers[0])
        #expect(client.read().bytes == payload)
        _ = try channel.finish(acceptAlreadyClosed: true)
    }

    @Test func writesOfOneFlushGoOutTogetherAndTheirPromisesComplete() throws {
        let (channel, _) = try setUp()
        let client = MemoryTLSClient()
        try converse(client, with: channel)
        _ = try channel.outboundBuffers()

        let futures = ["one", "two", "three"].map { channel.write(ByteBuffer(string: $0)) }
        #expect(try channel.outboundBuffers().isEmpty, "nothing before the flush")
        channel.flush()
        let buffers = try channel.outboundBuffers()
        #expect(buffers.count == 1)
        #expect(records(in: buffers[0]).count == 3)
        for future in futures { try future.wait() }
        client.feed(buffers[0])
        #expect(client.read().bytes == Array("onetwothree".utf8))
        _ = try channel.finish(acceptAlreadyClosed: true)
    }

    @Test func writesBeforeTheHandshakeCompletesAreHeldUntilItDoes() throws {
        let (channel, _) = try setUp()
        let client = MemoryTLSClient()
        let held = channel.writeAndFlush(ByteBuffer(string: "early"))
        try converse(client, with: channel)
        try held.wait()
        #expect(client.read().bytes == Array("early".utf8))
        _ = try channel.finish(acceptAlreadyClosed: true)
    }

    @Test func closeNotifyIsAHalfCloseAndClosingSendsOurs() throws {
        let (channel, recorder) = try setUp()
        let client = MemoryTLSClient()
        try converse(client, with: channel)
        _ = try channel.outboundBuffers()

        #expect(SSL_shutdown(client.ssl) == 0, "close_notify sent, the server's not yet received")
        try channel.writeInbound(client.takeOutput())
        #expect(recorder.inputClosed)
        #expect(channel.isActive)
        // The other direction still carries data (the backend's last answers).
        try channel.writeAndFlush(ByteBuffer(string: "last rows")).wait()
        client.feed(try channel.outboundBytes())
        #expect(client.read().bytes == Array("last rows".utf8))

        try channel.close().wait()
        client.feed(try channel.outboundBytes())
        #expect(SSL_shutdown(client.ssl) == 1, "the server's close_notify arrived")
    }

    @Test func aBadClientHelloFailsTheHandshakeWithAnAlertThenThePlaintextAnswer() throws {
        let (channel, recorder) = try setUp()
        // A handshake record holding a ClientHello cut short after its version.
        let truncatedHello: [UInt8] = [0x16, 0x03, 0x01, 0x00, 0x06, 0x01, 0x00, 0x00, 0x02, 0x03, 0x03]
        #expect(throws: TLSError.self) { try channel.writeInbound(ByteBuffer(bytes: truncatedHello)) }
        let sent = try channel.outboundBuffers()
        try #require(sent.count == 2)
        #expect(records(in: sent[0]).first?.type == 21, "a TLS alert first")
        #expect(sent[1] == Self.badHandshakeAnswer)
        #expect(!channel.isActive)
        #expect(recorder.handshakes.isEmpty)
    }

    @Test func renegotiationIsRefused() throws {
        let (channel, recorder) = try setUp()
        let client = MemoryTLSClient(maximumVersion: TLS1_2_VERSION)
        try converse(client, with: channel)
        #expect(client.version == "TLSv1.2")

        #expect(SSL_renegotiate(client.ssl) == 1)
        var result: Int32 = 0
        var serverError: TLSError?
        for _ in 0..<5 {
            result = client.handshake()
            let toServer = client.takeOutput()
            guard toServer.readableBytes > 0 else { break }
            do {
                try channel.writeInbound(toServer)
            } catch let error as TLSError {
                // The client gives up on the refused renegotiation with a fatal alert.
                serverError = error
                break
            }
            channel.pipeline.fireChannelReadComplete()
            client.feed(try channel.outboundBytes())
        }
        #expect(result != 1, "the server does not renegotiate")
        #expect(recorder.handshakes.count == 1)
        if let serverError { #expect(serverError.description.contains("alert")) }
        _ = try channel.finish(acceptAlreadyClosed: true)
    }
}
