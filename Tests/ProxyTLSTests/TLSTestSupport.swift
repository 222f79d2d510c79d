import COpenSSL
import Foundation
import NIOCore
import NIOEmbedded

@testable import ProxyTLS

/// A P-256 server certificate and key made once per test run with the `openssl` command.
enum TestCertificate {
    static let files: (certificate: String, key: String) = {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("proxytls-tests-\(getpid())")
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let certificate = directory.appendingPathComponent("cert.pem").path
        let key = directory.appendingPathComponent("key.pem").path
        let openssl = Process()
        openssl.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        openssl.arguments = [
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-subj", "/CN=proxytls-test", "-days", "1", "-keyout", key, "-out", certificate,
        ]
        openssl.standardOutput = FileHandle.nullDevice
        openssl.standardError = FileHandle.nullDevice
        try! openssl.run()
        openssl.waitUntilExit()
        precondition(openssl.terminationStatus == 0, "openssl req failed")
        return (certificate, key)
    }()

    static func serverContext(_ configure: (inout TLSSettings) -> Void = { _ in }) throws -> TLSServerContext {
        var settings = TLSSettings()
        settings.certificatePath = files.certificate
        settings.privateKeyPath = files.key
        configure(&settings)
        return try TLSServerContext(settings: settings)
    }
}

/// An OpenSSL client on memory BIOs, driven by the test: what it writes is taken with
/// ``takeOutput()``, what the server sent is given with ``feed(_:)``.
final class MemoryTLSClient {
    private let context: OpaquePointer
    let ssl: OpaquePointer
    private let fromServer: OpaquePointer
    private let toServer: OpaquePointer

    /// - Parameters: nil keeps OpenSSL's client default.
    init(suites: String? = nil, cipherList: String? = nil, groups: String? = nil, maximumVersion: Int32? = nil) {
        context = SSL_CTX_new(TLS_client_method())!
        SSL_CTX_set_verify(context, SSL_VERIFY_NONE, nil)
        if let suites { precondition(SSL_CTX_set_ciphersuites(context, suites) == 1) }
        if let cipherList { precondition(SSL_CTX_set_cipher_list(context, cipherList) == 1) }
        if let groups { precondition(copenssl_SSL_CTX_set1_groups_list(context, groups) == 1) }
        if let maximumVersion { _ = copenssl_SSL_CTX_set_max_proto_version(context, maximumVersion) }
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

    func feed(_ input: ByteBuffer) {
        input.withUnsafeReadableBytes { _ = BIO_write(fromServer, $0.baseAddress, Int32($0.count)) }
    }

    /// Runs the handshake as far as it goes: 1 when complete.
    @discardableResult
    func handshake() -> Int32 { SSL_do_handshake(ssl) }

    /// Feeds the server's bytes, runs the handshake, returns what the client sends next.
    func step(_ input: ByteBuffer? = nil) -> ByteBuffer {
        if let input { feed(input) }
        handshake()
        return takeOutput()
    }

    func takeOutput() -> ByteBuffer {
        var output = ByteBuffer()
        var chunk = [UInt8](repeating: 0, count: 16_384)
        while true {
            let count = chunk.withUnsafeMutableBytes { BIO_read(toServer, $0.baseAddress, Int32($0.count)) }
            if count <= 0 { break }
            output.writeBytes(chunk[0..<Int(count)])
        }
        return output
    }

    func write(_ bytes: [UInt8]) {
        let written = bytes.withUnsafeBytes { SSL_write(ssl, $0.baseAddress, Int32($0.count)) }
        precondition(written == bytes.count)
    }

    /// Everything decrypted from what was fed, and whether the server's close_notify came.
    func read() -> (bytes: [UInt8], closed: Bool) {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16_384)
        while true {
            let count = chunk.withUnsafeMutableBytes { SSL_read(ssl, $0.baseAddress, Int32($0.count)) }
            if count > 0 {
                bytes += chunk[0..<Int(count)]
                continue
            }
            return (bytes, SSL_get_error(ssl, count) == SSL_ERROR_ZERO_RETURN)
        }
    }

    var cipher: String { String(cString: copenssl_SSL_get_cipher_name(ssl)) }
    var version: String { String(cString: SSL_get_version(ssl)) }
}

/// Records what a TLS handler passes up the pipeline.
final class InboundRecorder: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    var received: [UInt8] = []
    var reads = 0
    var handshakes: [TLSFacts] = []
    var inputClosed = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        reads += 1
        received += Array(buffer: unwrapInboundIn(data))
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .handshakeCompleted(let facts) = event as? TLSEvent { handshakes.append(facts) }
        if case .inputClosed = event as? ChannelEvent { inputClosed = true }
    }
}

extension EmbeddedChannel {
    /// Every buffer written to the network since the last call, in order.
    func outboundBuffers() throws -> [ByteBuffer] {
        var buffers: [ByteBuffer] = []
        while let next = try readOutbound(as: ByteBuffer.self) { buffers.append(next) }
        return buffers
    }

    func outboundBytes() throws -> ByteBuffer {
        var all = ByteBuffer()
        for var buffer in try outboundBuffers() { all.writeBuffer(&buffer) }
        return all
    }
}

/// Runs a memory client's handshake against a channel until neither side has anything to say.
func converse(_ client: MemoryTLSClient, with channel: EmbeddedChannel) throws {
    for _ in 0..<10 {
        client.handshake()
        let toServer = client.takeOutput()
        if toServer.readableBytes > 0 { try channel.writeInbound(toServer) }
        let toClient = try channel.outboundBytes()
        if toServer.readableBytes == 0 && toClient.readableBytes == 0 { return }
        client.feed(toClient)
    }
}

/// TLS records in `buffer`: (content type, length) of each 5-byte header.
func records(in buffer: ByteBuffer) -> [(type: UInt8, length: Int)] {
    var buffer = buffer
    var result: [(type: UInt8, length: Int)] = []
    while buffer.readableBytes >= 5 {
        let type = buffer.readInteger(as: UInt8.self)!
        buffer.moveReaderIndex(forwardBy: 2)
        let length = Int(buffer.readInteger(as: UInt16.self)!)
        result.append((type, length))
        buffer.moveReaderIndex(forwardBy: min(length, buffer.readableBytes))
    }
    return result
}
