import FoundationEssentials
import Glibc
import Logging
import SystemdIntegration

/// The daemon's exit statuses (documented in mariadb-tls-proxy(8) and docs/operations.md).
///
/// Configuration errors get sysexits.h's `EX_CONFIG`, which the service unit lists in
/// `RestartPreventExitStatus=`: restarting cannot fix a bad option file, so systemd stops
/// trying instead of restarting every `RestartSec` forever.
enum ExitStatus {
    /// Runtime failure: a listener that cannot be bound, a privilege drop that fails, ...
    static let failure: Int32 = 1
    /// `EX_CONFIG`: the command line, an option file, the accounts file or the TLS files are wrong,
    /// or the configuration is unsafe (``BackendIdentityCheck``); `--check` exits with it too.
    static let configurationError: Int32 = 78
}

/// Reports a fatal error and exits. Under systemd (stderr connected to the journal) the message
/// goes to the journal at priority `err`, so `journalctl -p err` shows why the service stopped;
/// plain stderr lines would be stored at the stream's default priority (info).
func fail(_ message: String, status: Int32) -> Never {
    if Journal.stderrIsJournal {
        let journal = Logger(label: programName) { label in JournalLogHandler(label: label, logLevel: .error) }
        journal.error("\(message)", metadata: ["exit_status": "\(status)"])
    } else {
        FileHandle.standardError.write(Data("\(programName): \(message)\n".utf8))
    }
    exit(status)
}
