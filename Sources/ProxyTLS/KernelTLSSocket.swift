import COpenSSL
import Glibc
import NIOCore

/// The socket of a NIO channel, for the calls NIO has no API for: attaching the `tls` ULP,
/// installing the keys, and sending or reading one record with its type (an alert).
///
/// NIO does not expose a channel's descriptor; its description names it (`fd=N`). That number is
/// used only after the kernel confirms it is the channel's socket: its `SO_COOKIE` (a unique id
/// per socket) must equal the one NIO's own `getsockopt` on the channel returns. If either step
/// fails the connection stays in user space.
struct KernelTLSSocket {
    let descriptor: CInt

    /// The channel's socket, or nil when it cannot be identified with certainty. On the event loop.
    init?(channel: Channel) {
        guard let descriptor = Self.describedDescriptor(String(describing: channel)),
            let provider = channel as? SocketOptionProvider
        else { return nil }
        var channelCookie: UInt64?
        // On the event loop the future is already complete, so the callback runs before this returns.
        let future: EventLoopFuture<UInt64> = provider.unsafeGetSocketOption(
            level: SocketOptionLevel(SOL_SOCKET),
            name: SocketOptionName(SO_COOKIE)
        )
        future.assumeIsolated().whenSuccess { channelCookie = $0 }
        var descriptorCookie: UInt64 = 0
        guard let channelCookie, copenssl_socket_cookie(descriptor, &descriptorCookie) == 0,
            descriptorCookie == channelCookie
        else {
            return nil
        }
        self.descriptor = descriptor
    }

    /// The `N` of `fd=N` in a NIO channel description.
    static func describedDescriptor(_ description: String) -> CInt? {
        let marker = Array("fd=".utf8)
        let bytes = Array(description.utf8)
        guard let start = bytes.indices.first(where: { bytes[$0...].starts(with: marker) }) else { return nil }
        let digits = String(
            decoding: bytes[(start + marker.count)...].prefix { $0 >= 0x30 && $0 <= 0x39 },
            as: UTF8.self
        )
        guard let value = CInt(digits), value >= 0 else { return nil }
        return value
    }

    /// `setsockopt(TCP_ULP, "tls")`: 0 or the errno.
    func attachULP() -> CInt {
        copenssl_ktls_attach_ulp(descriptor)
    }

    /// `setsockopt(SOL_TLS, TLS_TX/TLS_RX)`: 0 or the errno.
    func install(_ info: KernelTLSCryptoInfo, transmit: Bool) -> CInt {
        info.bytes.withUnsafeBufferPointer {
            copenssl_ktls_set_crypto(descriptor, transmit ? 1 : 0, $0.baseAddress, $0.count)
        }
    }

    /// Sends close_notify (a warning-level alert, description 0) as a record of its own.
    func sendCloseNotify() -> Bool {
        let alert: [UInt8] = [1, 0]
        return copenssl_ktls_send_record(descriptor, 21, alert, alert.count) == alert.count
    }

    /// The next record when it is not application data (what makes a plain read fail with EIO):
    /// its type and content, or nil when none can be read now.
    func receiveControlRecord() -> (type: UInt8, content: [UInt8])? {
        var type: UInt8 = 0
        var buffer = [UInt8](repeating: 0, count: 64)
        let capacity = buffer.count
        let count = buffer.withUnsafeMutableBytes {
            copenssl_ktls_receive_record(descriptor, &type, $0.baseAddress, capacity)
        }
        guard count >= 0 else { return nil }
        return (type, Array(buffer.prefix(count)))
    }
}
