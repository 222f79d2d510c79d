import COpenSSL
import Foundation
import NIOCore
import NIOEmbedded
import ProxyConfiguration
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

        func requestSlot(on eventLoop: EventLoop, continuing: Bool, whenGranted: @escaping @Sendable () -> Void) -> (ticket: UInt64, grantedNow: Bool) {
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
            if case .handshakeCompleted = event as? TLSServerEvent { completed = true }
            context.fireUserInboundEventTriggered(event)
        }
    }

    /// An OpenSSL client on memory BIOs (no certificate check: the server's identity is not under test).
    private final class MemoryTLSClient {
        private let context: OpaquePointer
        private let ssl: OpaquePointer
        private let fromServer: OpaquePointer
        private let toServer: OpaquePointer

        init() {
            context = SSL_CTX_new(TLS_client_method())!
            SSL_CTX_set_verify(context, SSL_VERIFY_NONE, nil)
            ssl = SSL_new(context)!
            fromServer = BIO_new(BIO_s_mem())!
            toServer = BIO_new(BIO_s_mem())!
            SSL_set_bio(ssl, fromServer, toServer)
            SSL_set_connect_state(ssl)
        }

        deinit {
            SSL_free(ssl)
            SSL_CTX_free(context)
        }

        /// Feeds the server's bytes, runs the handshake, returns what the client sends next.
        func step(_ input: ByteBuffer?) -> ByteBuffer {
            if let input {
                input.withUnsafeReadableBytes { _ = BIO_write(fromServer, $0.baseAddress, Int32($0.count)) }
            }
            _ = SSL_do_handshake(ssl)
            var output = ByteBuffer()
            var chunk = [UInt8](repeating: 0, count: 16_384)
            while true {
                let count = chunk.withUnsafeMutableBytes { BIO_read(toServer, $0.baseAddress, Int32($0.count)) }
                if count <= 0 { break }
                output.writeBytes(chunk[0..<Int(count)])
            }
            return output
        }
    }

    private static func serverContext() throws -> TLSServerContext {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tls-admission-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let certificate = directory.appendingPathComponent("cert.pem").path
        let key = directory.appendingPathComponent("key.pem").path
        let openssl = Process()
        openssl.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        openssl.arguments = ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                             "-subj", "/CN=admission-test", "-days", "1", "-keyout", key, "-out", certificate]
        openssl.standardOutput = FileHandle.nullDevice
        openssl.standardError = FileHandle.nullDevice
        try openssl.run()
        openssl.waitUntilExit()
        #expect(openssl.terminationStatus == 0)
        var settings = TLSSettings()
        settings.certificatePath = certificate
        settings.privateKeyPath = key
        return try TLSServerContext(settings: settings)
    }

    private func setUp() throws -> (EmbeddedChannel, ManualAdmission, CompletionRecorder) {
        let admission = ManualAdmission()
        let recorder = CompletionRecorder()
        let channel = EmbeddedChannel()
        let handler = TLSServerHandler(context: try Self.serverContext(), initialCiphertext: nil,
                                       plaintextAfterHandshakeFailure: nil, admission: admission)
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

        try channel.writeInbound(client.step(nil))
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
        try channel.writeInbound(client.step(nil))
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
        #expect(throws: TLSServerError.self) { try channel.throwIfErrorCaught() }
        #expect(admission.released == [1])
    }
}
