import Logging

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The journald side of logging: detecting the journal, and turning a swift-log event into
/// journal fields (sent by ``JournalLogHandler``).
///
/// Field names follow journald's rules — `[A-Z0-9_]`, at most 64 characters, not starting with
/// `_` (reserved for trusted fields) or a digit — and the proxy's connection metadata gets names
/// that read well in `journalctl` matches:
///
/// | swift-log metadata | journal field(s) |
/// | --- | --- |
/// | `client` (`192.0.2.7:50942`) | `CLIENT_ADDR`, plus `CLIENT_IP` (`192.0.2.7`) |
/// | `user` | `USER_NAME` |
/// | `tls` (`TLSv1.3/TLS_AES_256_GCM_SHA384`) | `TLS`, plus `TLS_VERSION` and `CIPHER` |
/// | `outcome` (`refused: 1045 …`), `outcome_kind` (`refused`) | `OUTCOME`, `OUTCOME_KIND` |
/// | `conn` | `CONNECTION_ID` |
/// | `client_cert` | `CLIENT_CERT_SUBJECT` |
/// | anything else, e.g. `bytes_in` | upper-cased, other characters → `_`: `BYTES_IN` |
public enum Journal {
    /// `SYSLOG_IDENTIFIER` of every entry, so `journalctl -t mariadb-tls-proxy` works too.
    public static let syslogIdentifier = "mariadb-tls-proxy"

    /// True when stderr is connected to the journal: `JOURNAL_STREAM="<dev>:<ino>"` (set by
    /// systemd for `StandardError=journal`) equals `fstat(2)`'s `st_dev:st_ino`.
    ///
    /// Comparing with the actual descriptor, not just testing the variable, matters: a child
    /// started from a unit (or a shell in one) inherits `JOURNAL_STREAM` with stderr redirected.
    public static var stderrIsJournal: Bool {
        var status = stat()
        guard fstat(STDERR_FILENO, &status) == 0 else { return false }
        let variable = getenv("JOURNAL_STREAM").map { String(cString: $0) }
        return journalStream(variable, matchesDevice: UInt64(status.st_dev), inode: UInt64(status.st_ino))
    }

    /// Parses `JOURNAL_STREAM` (`"<dev>:<ino>"`, both decimal) and compares it with a file's identity.
    static func journalStream(_ value: String?, matchesDevice device: UInt64, inode: UInt64) -> Bool {
        guard let value else { return false }
        let parts = value.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let dev = UInt64(parts[0]), let ino = UInt64(parts[1]) else { return false }
        return dev == device && ino == inode
    }

    /// The `KEY=value` fields ``JournalLogHandler`` sends for one event, in a fixed order: the
    /// standard fields, then metadata sorted by journal field name. Pure, for tests.
    ///
    /// `source` (swift-log's module) goes to `CODE_MODULE`. Metadata whose name would collide with a
    /// standard field (e.g. `message`) is prefixed with `META_` rather than overriding it; explicit
    /// metadata (e.g. `tls_version`) wins over a field derived from another one (``derivedFields(_:)``).
    public static func fields(
        message: String,
        level: Logger.Level,
        metadata: Logger.Metadata,
        source: String,
        file: String,
        function: String,
        line: UInt
    ) -> [String] {
        var fields = [
            "MESSAGE=\(message)",
            "PRIORITY=\(priority(for: level))",
            "SYSLOG_IDENTIFIER=\(syslogIdentifier)",
            "CODE_FILE=\(file)",
            "CODE_LINE=\(line)",
            "CODE_FUNC=\(function)",
            "CODE_MODULE=\(source)",
        ]
        var extra: [String: String] = [:]
        for (key, value) in metadata {
            extra[fieldName(forMetadataKey: key)] = "\(value)"
        }
        for (name, value) in derivedFields(extra) where extra[name] == nil {
            extra[name] = value
        }
        for name in extra.keys.sorted() {
            fields.append("\(name)=\(extra[name]!)")
        }
        return fields
    }

    /// Fields split out of connection metadata so `journalctl` can match them exactly:
    /// `TLS_VERSION`/`CIPHER` from `TLS` and `CLIENT_IP` from `CLIENT_ADDR` (`ip:port` or `[ip6]:port`).
    /// (`OUTCOME_KIND` is a field of its own: the connection log line carries the outcome's kind.)
    static func derivedFields(_ fields: [String: String]) -> [String: String] {
        var derived: [String: String] = [:]
        if let tls = fields["TLS"], let slash = tls.firstIndex(of: "/") {
            let version = tls[..<slash]
            let cipher = tls[tls.index(after: slash)...]
            if !version.isEmpty { derived["TLS_VERSION"] = String(version) }
            if !cipher.isEmpty { derived["CIPHER"] = String(cipher) }
        }
        if let client = fields["CLIENT_ADDR"], let ip = hostPart(ofAddress: client) {
            derived["CLIENT_IP"] = ip
        }
        return derived
    }

    /// `192.0.2.7` from `192.0.2.7:50942`, `2001:db8::1` from `[2001:db8::1]:50942`; nil without a port
    /// (e.g. `localhost` for unix-socket clients).
    static func hostPart(ofAddress address: String) -> String? {
        if address.hasPrefix("["), let close = address.firstIndex(of: "]") {
            let host = address[address.index(after: address.startIndex)..<close]
            return host.isEmpty || !address[close...].hasPrefix("]:") ? nil : String(host)
        }
        let parts = address.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, UInt16(parts[1]) != nil else { return nil }
        return String(parts[0])
    }

    /// syslog(3) priority for a swift-log level (journald's `PRIORITY`; `journalctl -p`).
    public static func priority(for level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7  // LOG_DEBUG
        case .info: 6  // LOG_INFO
        case .notice: 5  // LOG_NOTICE
        case .warning: 4  // LOG_WARNING
        case .error: 3  // LOG_ERR
        case .critical: 2  // LOG_CRIT
        }
    }

    /// Metadata keys with a fixed journal name (so documented `journalctl FIELD=…` matches work).
    static let renamedKeys: [String: String] = [
        "client": "CLIENT_ADDR",
        "user": "USER_NAME",
        "tls": "TLS",
        "outcome": "OUTCOME",
        "conn": "CONNECTION_ID",
        "client_cert": "CLIENT_CERT_SUBJECT",
    ]

    /// Fields this module writes itself; metadata may not add a second value to them.
    static let standardFields: Set<String> = [
        "MESSAGE", "MESSAGE_ID", "PRIORITY", "SYSLOG_IDENTIFIER", "SYSLOG_FACILITY", "SYSLOG_PID",
        "CODE_FILE", "CODE_LINE", "CODE_FUNC", "CODE_MODULE",
    ]

    /// journald's longest field name.
    static let maximumFieldNameLength = 64

    /// The journal field name for a swift-log metadata key.
    static func fieldName(forMetadataKey key: String) -> String {
        if let renamed = renamedKeys[key] { return renamed }
        var name = String(
            key.unicodeScalars.map { scalar -> Character in
                switch scalar {
                case "A"..."Z", "0"..."9": Character(scalar)
                case "a"..."z": Character(Unicode.Scalar(scalar.value - 32)!)
                default: "_"
                }
            }
        )
        // A leading '_' would claim a trusted field (journald drops it); a leading digit is invalid.
        while name.hasPrefix("_") { name.removeFirst() }
        if name.isEmpty || name.first!.isNumber || standardFields.contains(name) {
            name = "META_" + name
        }
        return String(name.prefix(maximumFieldNameLength))
    }
}
