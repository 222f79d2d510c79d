import CSystemd
import Logging

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A swift-log handler that writes structured entries to the systemd journal with
/// `sd_journal_sendv(3)`; the fields are ``Journal/fields(message:level:metadata:source:file:function:line:)``.
///
/// Use it only when ``Journal/stderrIsJournal`` is true (the daemon runs as a unit with stderr in
/// the journal); elsewhere a plain stderr handler is the right choice. Then
/// `journalctl -u mariadb-tls-proxy OUTCOME=denied` or `CLIENT_ADDR=…` select connection lines.
///
/// Each entry is one datagram to journald, sent synchronously from the logging thread; there is
/// no buffering and nothing to flush at exit. When journald is not running at all, libsystemd
/// drops entries silently (it treats a missing `/run/systemd/journal/socket` as success), hence
/// the ``Journal/stderrIsJournal`` check. Any other send error writes the entry to stderr with a
/// `<priority>` prefix instead (the format journald's stdout stream parses).
///
/// The message and every metadata value are escaped with ``LogEscaping`` before they become
/// fields, as on stderr. journald itself could store a newline in a field, but `journalctl`'s
/// export, `cat` and `verbose` views and the stderr fallback print values on lines of their own,
/// where a client-chosen user name such as `"x\nfake line"` would read as a separate entry; the
/// escaped form keeps one entry one line. A value without control characters, backslashes or
/// double quotes is sent unchanged, so `journalctl USER_NAME=app` matches as before.
public struct JournalLogHandler: LogHandler {
    /// The `Logger`'s label; not sent (every entry carries ``Journal/syslogIdentifier``).
    public let label: String
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?

    public init(label: String, logLevel: Logger.Level) {
        self.label = label
        self.logLevel = logLevel
        self.metadataProvider = LoggingSystem.metadataProvider
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        // Precedence, lowest first: handler metadata, provider metadata, the call's metadata.
        var merged = metadata
        if let provided = metadataProvider?.get(), !provided.isEmpty {
            merged.merge(provided) { _, new in new }
        }
        if let extra = event.metadata, !extra.isEmpty {
            merged.merge(extra) { _, new in new }
        }
        if let error = event.error, merged["error"] == nil {
            merged["error"] = "\(error)"
        }
        let fields = Self.escapedFields(
            message: event.message.description,
            level: event.level,
            metadata: merged,
            source: event.source,
            file: event.file,
            function: event.function,
            line: event.line
        )
        if Self.send(fields) < 0 {
            Self.writeToStderr(fields, level: event.level)
        }
    }

    /// ``Journal/fields(message:level:metadata:source:file:function:line:)`` of the escaped message
    /// and metadata values (``LogEscaping``). Pure, for tests.
    static func escapedFields(
        message: String,
        level: Logger.Level,
        metadata: Logger.Metadata,
        source: String,
        file: String,
        function: String,
        line: UInt
    ) -> [String] {
        Journal.fields(
            message: LogEscaping.escaped(message),
            level: level,
            metadata: metadata.mapValues { .string(LogEscaping.escaped("\($0)")) },
            source: source,
            file: file,
            function: function,
            line: line
        )
    }

    /// Packs all fields into one buffer and points one iovec at each; returns sd_journal_sendv's result.
    static func send(_ fields: [String]) -> Int32 {
        var storage: [UInt8] = []
        storage.reserveCapacity(fields.reduce(0) { $0 + $1.utf8.count })
        var ranges: [(offset: Int, length: Int)] = []
        ranges.reserveCapacity(fields.count)
        for field in fields {
            ranges.append((storage.count, field.utf8.count))
            storage.append(contentsOf: field.utf8)
        }
        return storage.withUnsafeMutableBytes { bytes -> Int32 in
            guard let base = bytes.baseAddress else { return -EINVAL }
            let vectors = ranges.map { iovec(iov_base: base + $0.offset, iov_len: $0.length) }
            return vectors.withUnsafeBufferPointer { sd_journal_sendv($0.baseAddress, Int32($0.count)) }
        }
    }

    /// Fallback when journald is unreachable: `<6>message KEY=value …` on stderr.
    private static func writeToStderr(_ fields: [String], level: Logger.Level) {
        let message = fields.first.map { String($0.dropFirst("MESSAGE=".count)) } ?? ""
        let rest = fields.dropFirst().filter {
            !$0.hasPrefix("PRIORITY=") && !$0.hasPrefix("SYSLOG_IDENTIFIER=") && !$0.hasPrefix("CODE_")
        }
        let text = (["<\(Journal.priority(for: level))>\(message)"] + Array(rest)).joined(separator: " ")
        let line = text.split(whereSeparator: \.isNewline).joined(separator: " ") + "\n"
        var bytes = Array(line.utf8)
        _ = bytes.withUnsafeMutableBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
    }
}
