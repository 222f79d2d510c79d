/// Why a TLS context could not be built: the option at fault, what went wrong, and MariaDB's own
/// short reason (the text `FLUSH SSL` would report as `Failed to refresh SSL, error: <reason>`).
public struct TLSConfigurationError: Error, Sendable, CustomStringConvertible {
    /// The option whose value is at fault, e.g. `ssl_key`.
    public let option: String
    /// A specific, human explanation, naming the file when there is one.
    public let detail: String
    /// MariaDB's reason string from `ssl_error_string[]`, e.g. "Unable to get private key".
    public let mariaDBReason: String

    public init(option: String, detail: String, mariaDBReason: String) {
        self.option = option
        self.detail = detail
        self.mariaDBReason = mariaDBReason
    }

    public var description: String { "option '\(option)': \(detail)" }
}
