import CSystemd
import Logging
import ServiceLifecycle

/// Pings the systemd watchdog (`WATCHDOG=1`) at half of `WatchdogSec=` until graceful shutdown.
///
/// The ping comes from a Swift task, so it proves that the concurrency runtime still schedules
/// work; a wedged process stops pinging and systemd kills and (with `Restart=on-failure`)
/// restarts it.
///
/// Without a watchdog (`WatchdogSec=` unset, or not under systemd) ``run()`` just waits for
/// graceful shutdown: returning early would end a `ServiceGroup` whose default
/// `successTerminationBehavior` is `.cancelGroup`.
///
/// Register it **first** in the `ServiceGroup`. Services are shut down in reverse order, so the
/// watchdog keeps pinging while the proxy drains its sessions (up to `shutdown_timeout`) and stops
/// only after everything else has finished.
public struct WatchdogService: Service {
    private let logger: Logger

    public init(logger: Logger) {
        self.logger = logger
    }

    /// The watchdog timeout systemd enforces (`WatchdogSec=`, passed as `WATCHDOG_USEC`), or nil when
    /// no watchdog is requested for this process. Pings are sent every `interval / 2`.
    public static var interval: Duration? {
        var microseconds: UInt64 = 0
        // > 0: enabled for this PID (WATCHDOG_PID, when set, must match getpid()).
        guard sd_watchdog_enabled(0, &microseconds) > 0, microseconds > 0 else { return nil }
        return .microseconds(Int64(clamping: microseconds))
    }

    public func run() async throws {
        guard let interval = Self.interval else {
            logger.debug("systemd watchdog not requested")
            try? await gracefulShutdown()
            return
        }
        let period = interval / 2
        logger.debug("systemd watchdog enabled", metadata: ["interval": "\(interval)", "ping_every": "\(period)"])
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            SystemdNotifier.watchdog()
            do {
                try await cancelWhenGracefulShutdown {
                    try await Task.sleep(for: period)
                }
            } catch {
                break  // cancelled, or graceful shutdown interrupted the sleep
            }
        }
    }
}
