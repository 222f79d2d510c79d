import COpenSSL
import Glibc
import NIOCore

/// Follows one server-side TLS connection from its first byte so that it can be handed to the
/// kernel when the handshake completes: OpenSSL reports the application traffic secrets as it
/// installs them (key log callback) and every record header it reads or writes (message
/// callback), which gives the exact sequence numbers the kernel must continue from.
///
/// Created only while ``KernelTLS`` is active; it stops following (and wipes the secrets) at
/// the handover attempt, whatever its result, so the relay pays no callback per record.
final class KernelTLSTracker {
    private let connection: TLSConnection
    private let state: UnsafeMutablePointer<copenssl_ktls_tracker>
    private var following = true

    /// Nil when kernel TLS is not active in this process.
    convenience init?(connection: TLSConnection) {
        guard KernelTLS.isActive else { return nil }
        self.init(following: connection)
    }

    /// Follows `connection` whatever the kernel offers (the tests' entry).
    init(following connection: TLSConnection) {
        self.connection = connection
        state = .allocate(capacity: 1)
        state.initialize(to: copenssl_ktls_tracker())
        copenssl_SSL_set_ktls_tracker(connection.ssl, state)
    }

    deinit {
        stop()
        state.deallocate()
    }

    /// Stops the callbacks and wipes the secrets.
    private func stop() {
        guard following else { return }
        following = false
        copenssl_SSL_set_ktls_tracker(connection.ssl, nil)
        copenssl_ktls_tracker_cleanse(state)
    }

    /// The connection as the handover sees it now.
    func snapshot(channelBufferedBytes: Int?, pendingWrites: Bool) -> KernelTLSHandover {
        let ssl = connection.ssl
        let tracker = state.pointee
        var session = SSL_get_session(ssl)
        let maxFragment = session.map { SSL_SESSION_get_max_fragment_length($0) } ?? 0
        session = nil
        return KernelTLSHandover(
            protocolVersion: SSL_version(ssl),
            cipherProtocolID: SSL_get_current_cipher(ssl).map { SSL_CIPHER_get_protocol_id($0) } ?? 0,
            maxFragmentLengthNegotiated: maxFragment != 0,
            disqualified: tracker.disqualified != 0,
            clientSecret: Self.bytes(of: tracker.client_secret, count: tracker.client_secret_length),
            serverSecret: Self.bytes(of: tracker.server_secret, count: tracker.server_secret_length),
            recordsRead: tracker.records_read,
            recordsWritten: tracker.records_written,
            unreadCiphertext: connection.bio.pendingInboundBytes,
            opensslHasPending: SSL_has_pending(ssl) != 0,
            unsentCiphertext: connection.bio.hasOutbound,
            channelBufferedBytes: channelBufferedBytes,
            pendingWrites: pendingWrites
        )
    }

    private static func bytes<T>(of tuple: T, count: Int) -> [UInt8] {
        withUnsafeBytes(of: tuple) { Array($0.prefix(count)) }
    }

    /// Called by ``TLSServerHandler`` right after the handshake completed and everything it
    /// brought was processed. On success the kernel runs the records from now on and a
    /// ``KernelTLSHandler`` has replaced the TLS handler in the pipeline (true); otherwise the
    /// connection goes on in user space (false), or is closed when the kernel took one direction
    /// but refused the other.
    func handOver(context: ChannelHandlerContext, pendingWrites: Bool) -> Bool {
        defer { stop() }
        let buffered = try? context.channel.syncOptions?.getOption(.bufferedWritableBytes)
        var handover = snapshot(channelBufferedBytes: buffered, pendingWrites: pendingWrites)
        defer { handover.cleanse() }
        let decision = handover.decide()
        guard case .handOver(var transmit, var receive) = decision else {
            if case .stayInUserSpace(let reason) = decision { KernelTLS.recordFallback(reason) }
            return false
        }
        defer {
            transmit.cleanse()
            receive.cleanse()
        }
        switch context.channel.remoteAddress {
        case .v4, .v6:
            break
        default:
            // TLS over the unix socket: the tls ULP is TCP's.
            KernelTLS.recordFallback("not a TCP connection")
            return false
        }
        guard let socket = KernelTLSSocket(channel: context.channel) else {
            KernelTLS.recordFallback("socket not identified")
            return false
        }
        let attached = socket.attachULP()
        if attached == ENOENT {
            // The module went away since startup.
            KernelTLS.kernelLacksULP()
        }
        guard attached == 0 else {
            KernelTLS.recordFallback("TCP_ULP tls: \(String(cString: strerror(attached)))")
            return false
        }
        // Without keys the ULP leaves the socket as it was: user space goes on.
        let sent = socket.install(transmit, transmit: true)
        guard sent == 0 else {
            KernelTLS.recordFallback("TLS_TX: \(String(cString: strerror(sent)))")
            return false
        }
        let received = socket.install(receive, transmit: false)
        guard received == 0 else {
            // The kernel now encrypts what is written and OpenSSL can no longer: fail closed.
            context.fireErrorCaught(
                TLSError.protocolError("kernel TLS: TLS_RX refused (\(String(cString: strerror(received))))")
            )
            context.close(promise: nil)
            return true
        }
        do {
            try context.pipeline.syncOperations.addHandler(
                KernelTLSHandler(socket: socket),
                position: .after(context.handler)
            )
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        } catch {
            context.fireErrorCaught(error)
            context.close(promise: nil)
            return true
        }
        KernelTLS.recordHandover()
        return true
    }
}
