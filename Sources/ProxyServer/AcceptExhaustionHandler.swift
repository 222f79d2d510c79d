import Logging
import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// On a listening channel: when `accept(2)` fails for lack of resources (EMFILE, ENFILE, ENOBUFS,
/// ENOMEM), stops accepting for ``pause`` and then tries again, instead of retrying in a tight
/// loop (the pending connection keeps the socket readable, so the event loop would spin at 100 %
/// CPU). MariaDB does the same: `sleep(1)` after EMFILE/ENFILE in its accept loop (sql/mysqld.cc).
///
/// The condition is logged once per episode: a warning at the first failure, and a notice (with the
/// number of failed accepts) at the first connection accepted after ``quietPeriod`` without a
/// failure; failures in between are not repeated, so a server hovering at its descriptor limit
/// does not log a line every second. New clients wait in the kernel's accept queue meanwhile.
/// Installed in front of NIO's `AcceptBackoffHandler`, which alone does not stop the spin: after a
/// failed accept NIO keeps the socket in the poll set (its read is still pending), so the event
/// loop wakes up again at once; turning autoRead off here is what takes the socket out.
final class AcceptExhaustionHandler: ChannelInboundHandler {
    typealias InboundIn = Channel
    typealias InboundOut = Channel

    /// How long accepting pauses after a failure (MariaDB: one second).
    static let pause = TimeAmount.seconds(1)
    /// How long accepting must work without a failure before the episode is over.
    static let quietPeriod = TimeAmount.seconds(5)

    private let logger: Logger
    private let listener: String
    private var failing = false
    private var failedAccepts = 0
    private var lastFailure = NIODeadline.distantPast
    private var resume: Scheduled<Void>?

    init(logger: Logger, listener: String) {
        self.logger = logger
        self.listener = listener
    }

    /// Errors that mean "no descriptor or buffer for a new connection right now".
    static func isResourceExhaustion(_ error: Error) -> Bool {
        guard let error = error as? IOError else { return false }
        return [EMFILE, ENFILE, ENOBUFS, ENOMEM].contains(error.errnoCode)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        guard Self.isResourceExhaustion(error) else {
            context.fireErrorCaught(error)
            return
        }
        failedAccepts += 1
        lastFailure = .now()
        if !failing {
            failing = true
            logger.warning(
                "cannot accept connections: out of file descriptors or memory; pausing accept, retrying every second",
                metadata: ["listener": "\(listener)", "error": "\(error)"]
            )
        }
        pauseAccepting(context: context)
        context.fireErrorCaught(error)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if failing, NIODeadline.now() - lastFailure >= Self.quietPeriod {
            logger.notice(
                "accepting connections again",
                metadata: ["listener": "\(listener)", "failed_accepts": "\(failedAccepts)"]
            )
            failing = false
            failedAccepts = 0
        }
        context.fireChannelRead(data)
    }

    func channelInactive(context: ChannelHandlerContext) {
        resume?.cancel()
        resume = nil
        context.fireChannelInactive()
    }

    /// autoRead off takes the socket out of the poll set; turning it back on re-arms it.
    private func pauseAccepting(context: ChannelHandlerContext) {
        guard resume == nil, let options = context.channel.syncOptions else { return }
        try? options.setOption(ChannelOptions.autoRead, value: false)
        resume = context.eventLoop.assumeIsolated().scheduleTask(in: Self.pause) { [self] in
            resume = nil
            guard context.channel.isActive, let options = context.channel.syncOptions else { return }
            try? options.setOption(ChannelOptions.autoRead, value: true)
        }
    }
}
