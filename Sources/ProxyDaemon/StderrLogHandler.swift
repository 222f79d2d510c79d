import FoundationEssentials
import Glibc
import Logging
import SystemdIntegration

/// swift-log handler writing one line per event to stderr:
/// `2026-11-25T20:08:05.123Z info connection closed conn=4 client=127.0.0.1:50942 … outcome="relayed"`.
///
/// The message comes first and metadata follows as `key=value` in a fixed order (connection
/// fields first), so lines read left to right and grep well. Values with spaces are quoted.
///
/// The message and every value go through ``LogEscaping`` (control characters, backslash and the
/// double quote escaped), so text from a client, such as a user name holding a newline, cannot
/// start a line of its own or add a field.
package struct StderrLogHandler: LogHandler {
    package var metadata: Logger.Metadata = [:]
    package var logLevel: Logger.Level

    /// Keys shown first, in this order; the rest follow sorted.
    private static let leadingKeys = [
        "conn", "client", "transport", "tls", "client_cert", "user", "outcome", "bytes_in", "bytes_out", "duration_ms",
    ]

    package init(logLevel: Logger.Level) {
        self.logLevel = logLevel
    }

    package subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    package func log(event: LogEvent) {
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        let line = Self.line(timestamp: Self.timestamp(), level: event.level, message: event.message, metadata: merged)
        FileHandle.standardError.write(Data(line.utf8))
    }

    /// One newline-terminated line: timestamp, level, the escaped message, then `key=value` fields.
    package static func line(
        timestamp: String,
        level: Logger.Level,
        message: Logger.Message,
        metadata: Logger.Metadata
    ) -> String {
        var line = "\(timestamp) \(level) \(LogEscaping.escaped(message.description))"
        for key in orderedKeys(metadata) {
            line += " \(key)=\(quoted("\(metadata[key]!)"))"
        }
        return line + "\n"
    }

    package static func orderedKeys(_ metadata: Logger.Metadata) -> [String] {
        let leading = leadingKeys.filter { metadata[$0] != nil }
        let rest = metadata.keys.filter { !leadingKeys.contains($0) }.sorted()
        return leading + rest
    }

    package static func quoted(_ value: String) -> String {
        LogEscaping.fieldValue(value)
    }

    private static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return timestamp(now)
    }

    /// `2026-11-25T20:08:05.123Z`: UTC, milliseconds truncated.
    package static func timestamp(_ now: timespec) -> String {
        var parts = tm()
        var seconds = now.tv_sec
        gmtime_r(&seconds, &parts)
        // "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ" (String(format:) is not in FoundationEssentials).
        let date =
            "\(digits(Int(parts.tm_year) + 1900, 4))-\(digits(Int(parts.tm_mon) + 1, 2))-\(digits(Int(parts.tm_mday), 2))"
        let time = "\(digits(Int(parts.tm_hour), 2)):\(digits(Int(parts.tm_min), 2)):\(digits(Int(parts.tm_sec), 2))"
        return date + "T" + time + "." + digits(Int(now.tv_nsec / 1_000_000), 3) + "Z"
    }

    /// `value` in decimal, zero-padded on the left to `width` digits.
    private static func digits(_ value: Int, _ width: Int) -> String {
        let text = String(value)
        return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
    }
}
