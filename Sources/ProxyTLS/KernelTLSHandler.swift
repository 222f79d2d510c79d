import Glibc
import NIOCore

/// Takes the place of ``TLSServerHandler`` once the kernel runs the session's records: the socket
/// now reads and writes plaintext, so bytes pass through unchanged. What is left of TLS maps as
/// before: close_notify from the client (the kernel's read fails with EIO on a record that is not
/// application data; the record is then read with its type) becomes `ChannelEvent.inputClosed`,
/// any other such record is a protocol error; `close` sends close_notify through the kernel once
/// every byte written before it has left.
final class KernelTLSHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let socket: KernelTLSSocket
    private var closeNotifySent = false

    init(socket: KernelTLSSocket) {
        self.socket = socket
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        guard let ioError = error as? IOError, ioError.errnoCode == EIO else {
            context.fireErrorCaught(error)
            return
        }
        // NIO closes the channel after this error; the record says whether that was the client's intent.
        guard let record = socket.receiveControlRecord() else {
            context.fireErrorCaught(TLSError.protocolError("kernel TLS: unreadable control record"))
            return
        }
        switch (record.type, record.content) {
        case (21, [1, 0]):
            context.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        case (21, let alert):
            context.fireErrorCaught(
                TLSError.protocolError("kernel TLS: the client sent alert \(alert.last.map(String.init) ?? "?")")
            )
        case (22, let message):
            // A KeyUpdate (24) or another post-handshake message the kernel cannot follow.
            context.fireErrorCaught(
                TLSError.protocolError(
                    "kernel TLS: unexpected handshake message \(message.first.map(String.init) ?? "?") from the client"
                )
            )
        case (let type, _):
            context.fireErrorCaught(
                TLSError.protocolError("kernel TLS: unexpected record type \(type) from the client")
            )
        }
    }

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        guard !closeNotifySent, mode != .input, context.channel.isActive else {
            context.close(mode: mode, promise: promise)
            return
        }
        closeNotifySent = true
        if mode == .all {
            // Unsent writes are dropped: close_notify only if nothing is queued in front of it.
            if (try? context.channel.syncOptions?.getOption(.bufferedWritableBytes)) == 0 {
                _ = socket.sendCloseNotify()
            }
            context.close(mode: mode, promise: promise)
            return
        }
        // The alert goes straight to the socket, so it waits for the writes queued before it.
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(capacity: 0))).whenComplete { result in
            let (handler, context) = loopBound.value
            if case .success = result { _ = handler.socket.sendCloseNotify() }
            context.close(mode: mode, promise: promise)
        }
    }
}

@available(*, unavailable)
extension KernelTLSHandler: Sendable {}
