import CSystemd

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Service-manager notifications over `sd_notify(3)` for a `Type=notify` unit.
///
/// Every call is a no-op when `NOTIFY_SOCKET` is unset (not started by systemd, or started by a
/// manager that does not listen), so the daemon can call these unconditionally. Failures to send
/// are ignored: there is nothing useful the daemon could do about them, and systemd itself notices
/// a missing `READY=1` (start timeout) or `WATCHDOG=1` (watchdog timeout).
///
/// The environment is never unset (`unset_environment` is 0) because the daemon keeps notifying
/// for its whole life: reload, status and stopping messages follow `READY=1`.
public enum SystemdNotifier {
    /// True when `NOTIFY_SOCKET` is set to a non-empty value, i.e. systemd waits for our messages.
    public static var isEnabled: Bool {
        guard let value = getenv("NOTIFY_SOCKET") else { return false }
        return value.pointee != 0
    }

    /// Startup finished: listeners are bound and connections are accepted.
    public static func ready(status: String) {
        send("READY=1\nSTATUS=\(singleLine(status))")
    }

    /// A reload (SIGHUP) has started.
    ///
    /// `MONOTONIC_USEC` is required by `Type=notify-reload` (systemd ≥ 253) to match the reload to
    /// this message; systemd 252 with `Type=notify` accepts and ignores it. Follow with
    /// ``readyAfterReload(status:)`` whether the reload succeeded or not, or systemd stays in
    /// "reloading" until its timeout.
    public static func reloading() {
        send("RELOADING=1\nMONOTONIC_USEC=\(monotonicMicroseconds())")
    }

    /// The reload has finished (successfully or not); the daemon is serving again.
    public static func readyAfterReload(status: String) {
        send("READY=1\nSTATUS=\(singleLine(status))")
    }

    /// Free-form status shown by `systemctl status`.
    public static func status(_ status: String) {
        send("STATUS=\(singleLine(status))")
    }

    /// Graceful shutdown has begun; systemd shows the unit as "deactivating".
    public static func stopping(status: String) {
        send("STOPPING=1\nSTATUS=\(singleLine(status))")
    }

    /// Keep-alive ping for `WatchdogSec=`; see ``WatchdogService``.
    public static func watchdog() {
        send("WATCHDOG=1")
    }

    /// Sends `state` verbatim: newline-separated `VARIABLE=value` assignments (see `sd_notify(3)`).
    public static func send(_ state: String) {
        guard isEnabled else { return }
        _ = sd_notify(0, state)
    }

    /// `CLOCK_MONOTONIC` in microseconds, the clock systemd uses for `MONOTONIC_USEC`.
    static func monotonicMicroseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1_000
    }

    /// A newline inside STATUS= would start a new (bogus) assignment, so flatten it.
    static func singleLine(_ text: String) -> String {
        guard text.contains(where: \.isNewline) else { return text }
        return String(text.map { $0.isNewline ? " " : $0 })
    }
}
