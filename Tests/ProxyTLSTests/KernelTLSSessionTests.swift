import COpenSSL
import NIOCore
import Testing

@testable import ProxyTLS

/// The handover's sequence numbers and keys against a real session: an OpenSSL client in memory
/// talks TLS 1.3 to the proxy's own server connection (ByteBufferBIO), then a record sealed with
/// the handover's transmit state must open in the client, and the client's next record must open
/// with the receive state, exactly as the kernel would seal and open them.
@Suite struct KernelTLSSessionTests {
    /// An OpenSSL TLS 1.3 client over two memory BIOs.
    final class MemoryClient {
        let context: OpaquePointer
        let ssl: OpaquePointer
        let incoming: OpaquePointer
        let outgoing: OpaquePointer

        init(suites: String) {
            context = SSL_CTX_new(TLS_client_method())!
            _ = SSL_CTX_set_ciphersuites(context, suites)
            _ = copenssl_SSL_CTX_set_min_proto_version(context, TLS1_3_VERSION)
            ssl = SSL_new(context)!
            incoming = BIO_new(BIO_s_mem())!
            outgoing = BIO_new(BIO_s_mem())!
            SSL_set_bio(ssl, incoming, outgoing)
            SSL_set_connect_state(ssl)
        }

        deinit {
            SSL_free(ssl)
            SSL_CTX_free(context)
        }

        func takeOutput() -> [UInt8] {
            var bytes = [UInt8](repeating: 0, count: 64 * 1024)
            let count = BIO_read(outgoing, &bytes, Int32(bytes.count))
            return count > 0 ? Array(bytes.prefix(Int(count))) : []
        }

        func give(_ bytes: [UInt8]) {
            _ = BIO_write(incoming, bytes, Int32(bytes.count))
        }

        func handshake() -> Bool { SSL_do_handshake(ssl) == 1 }

        func write(_ text: String) {
            let bytes = Array(text.utf8)
            _ = SSL_write(ssl, bytes, Int32(bytes.count))
        }

        func read() -> String {
            var bytes = [UInt8](repeating: 0, count: 16 * 1024)
            var result: [UInt8] = []
            while true {
                let count = SSL_read(ssl, &bytes, Int32(bytes.count))
                if count <= 0 { break }
                result += bytes.prefix(Int(count))
            }
            ERR_clear_error()
            return String(decoding: result, as: UTF8.self)
        }
    }

    /// The proxy's server side with a tracker, and a client, handshaken and past one exchange.
    final class Session {
        let client: MemoryClient
        let server: TLSConnection
        let tracker: KernelTLSTracker

        init(suites: String, context: TLSServerContext? = nil, prepare: (MemoryClient) -> Void = { _ in }) throws {
            client = MemoryClient(suites: suites)
            prepare(client)
            let context = try context ?? TLSServerContext(settings: TLSSettings())
            server = TLSConnection(context: context, allocator: ByteBufferAllocator())!
            tracker = KernelTLSTracker(following: server)
            var serverDone = false
            var clientDone = false
            for _ in 0..<8 where !(serverDone && clientDone) {
                clientDone = client.handshake() || clientDone
                toServer()
                serverDone = server.doHandshake() == .complete || serverDone
                toClient()
            }
            #expect(serverDone && clientDone)
        }

        func toServer() {
            let bytes = client.takeOutput()
            if !bytes.isEmpty { server.bio.receiveFromNetwork(ByteBuffer(bytes: bytes)) }
        }

        func toClient() {
            if let bytes = server.bio.takeOutbound() { client.give(Array(bytes.readableBytesView)) }
        }

        func serverRead() -> String {
            var buffer = ByteBuffer()
            _ = server.read(into: &buffer)
            return String(buffer: buffer)
        }

        func serverWrite(_ text: String) {
            _ = server.write(ByteBuffer(string: text))
            toClient()
        }

        func handover() -> KernelTLSHandover {
            tracker.snapshot(channelBufferedBytes: 0, pendingWrites: false)
        }
    }

    func exchange(_ session: Session) {
        session.client.write("SELECT 1")
        session.toServer()
        #expect(session.serverRead() == "SELECT 1")
        session.serverWrite("1")
        #expect(session.client.read() == "1")
    }

    @Test(arguments: ["TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"])
    func theKernelsStateContinuesTheSessionInBothDirections(suite: String) throws {
        let session = try Session(suites: suite)
        exchange(session)
        let state = session.handover()
        // Two session tickets and one answer written, one query read under the application keys.
        #expect(state.recordsWritten == 3)
        #expect(state.recordsRead == 1)
        guard case .handOver(let transmit, let receive) = state.decide() else {
            Issue.record("expected a handover, got \(state.decide())")
            return
        }
        var sealer = try #require(TLS13RecordCipher(cryptoInfo: transmit.bytes))
        #expect(sealer.sequence == 3)
        session.client.give(sealer.seal(Array("from the kernel".utf8)))
        #expect(session.client.read() == "from the kernel")

        var opener = try #require(TLS13RecordCipher(cryptoInfo: receive.bytes))
        #expect(opener.sequence == 1)
        session.client.write("SELECT 2")
        #expect(opener.open(session.client.takeOutput()) == Array("SELECT 2".utf8))
    }

    @Test func aResumedSessionCountsItsOwnTickets() throws {
        let context = try TLSServerContext(settings: TLSSettings())
        let first = try Session(suites: "TLS_AES_128_GCM_SHA256", context: context)
        exchange(first)
        let ticket = try #require(SSL_get1_session(first.client.ssl))
        defer { SSL_SESSION_free(ticket) }
        let second = try Session(suites: "TLS_AES_128_GCM_SHA256", context: context) {
            _ = SSL_set_session($0.ssl, ticket)
        }
        exchange(second)
        #expect(SSL_session_reused(second.server.ssl) == 1)
        let state = second.handover()
        guard case .handOver(let transmit, _) = state.decide() else {
            Issue.record("expected a handover")
            return
        }
        var sealer = try #require(TLS13RecordCipher(cryptoInfo: transmit.bytes))
        second.client.give(sealer.seal(Array("resumed".utf8)))
        #expect(second.client.read() == "resumed")
    }

    @Test func aPartlyReceivedRecordStaysInUserSpace() throws {
        let session = try Session(suites: "TLS_AES_128_GCM_SHA256")
        exchange(session)
        session.client.write("SELECT 3")
        let record = session.client.takeOutput()
        session.server.bio.receiveFromNetwork(ByteBuffer(bytes: record.prefix(10)))
        #expect(session.serverRead() == "")
        guard case .stayInUserSpace(let reason) = session.handover().decide() else {
            Issue.record("a partial record must not be handed over")
            return
        }
        #expect(reason == "received ciphertext not fully read")
    }

    @Test func aKeyUpdateStaysInUserSpace() throws {
        let session = try Session(suites: "TLS_AES_128_GCM_SHA256")
        exchange(session)
        _ = SSL_key_update(session.client.ssl, SSL_KEY_UPDATE_NOT_REQUESTED)
        session.client.write("SELECT 4")
        session.toServer()
        #expect(session.serverRead() == "SELECT 4")
        #expect(session.handover().disqualified)
    }
}
