import FoundationEssentials
import Glibc
import Logging
import SystemdIntegration

/// The daemon's exit statuses (documented in mariadb-tls-proxy(8) and docs/operations.md).
///
/// Configuration errors get sysexits.h's `EX_CONFIG`, which the service unit lists in
/// `RestartPreventExitStatus=`: restarting cannot fix a bad option file, so systemd stops
/// trying instead of restarting every `RestartSec` forever.
package enum ExitStatus: Int32, Sendable, CaseIterable {
    /// A clean shutdown, or `--help`, `--version`, `--help-man` and a passing `--check`.
    case success = 0
    /// Runtime failure: a listener that cannot be bound, a privilege drop that fails, ...
    case failure = 1
    /// `EX_CONFIG`: the command line, an option file, the accounts file or the TLS files are wrong,
    /// or the configuration is unsafe (``BackendIdentityCheck``); `--check` exits with it too.
    case configurationError = 78

    /// Whether systemd should restart the service after this status (the unit's `Restart=on-failure`
    /// with `RestartPreventExitStatus=` naming ``configurationError``).
    package var isWorthRestarting: Bool { self == .failure }
}

/// A fatal error as reported: its message, the status the process exits with, and the two ways
/// it is written (a journal entry at priority `err`, or a line on stderr).
package struct FatalError: Sendable, Equatable {
    package let message: String
    package let status: ExitStatus

    package init(_ message: String, status: ExitStatus) {
        self.message = message
        self.status = status
    }

    /// The stderr line: `mariadb-tls-proxy: <message>`, newline-terminated.
    package var stderrLine: String { "\(Program.name): \(message)\n" }

    /// The journal entry's structured fields besides MESSAGE.
    package var journalMetadata: Logger.Metadata { ["exit_status": "\(status.rawValue)"] }
}

/// Reports a fatal error and exits. Under systemd (stderr connected to the journal) the message
/// goes to the journal at priority `err`, so `journalctl -p err` shows why the service stopped;
/// plain stderr lines would be stored at the stream's default priority (info).
func fail(_ message: String, status: ExitStatus) -> Never {
    let error = FatalError(message, status: status)
    if Journal.stderrIsJournal {
        let journal = Logger(label: Program.name) { label in JournalLogHandler(label: label, logLevel: .error) }
        journal.error("\(error.message)", metadata: error.journalMetadata)
    } else {
        FileHandle.standardError.write(Data(error.stderrLine.utf8))
    }
    exit(status.rawValue)
}
