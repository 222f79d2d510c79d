/// What the `readFile` / `listDirectory` closures given to ``ProxyCommandLine`` should throw.
///
/// Throwing ``notFound(_:)`` for a missing file lets the parser skip the standard option file silently
/// and report a clear "not found" for `--defaults-file` and `!include`; any other error is reported as
/// "cannot read". ``ProxyCommandLine/defaultReadFile(_:)`` and ``ProxyCommandLine/defaultListDirectory(_:)``
/// throw this type; Foundation's "no such file" errors are recognised too.
public struct OptionFileAccessError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Reason: Sendable, Equatable {
        case notFound
        /// Exists but cannot be used, with a short explanation ("permission denied", "is a directory").
        case unreadable(String)
    }

    public var path: String
    public var reason: Reason

    public init(path: String, reason: Reason) {
        self.path = path
        self.reason = reason
    }

    public static func notFound(_ path: String) -> OptionFileAccessError {
        OptionFileAccessError(path: path, reason: .notFound)
    }

    public static func unreadable(_ path: String, _ explanation: String) -> OptionFileAccessError {
        OptionFileAccessError(path: path, reason: .unreadable(explanation))
    }

    /// The explanation alone ("not found", "permission denied"), without the path.
    public var explanation: String {
        switch reason {
        case .notFound: return "not found"
        case .unreadable(let text): return text
        }
    }

    public var description: String { "'\(path)': \(explanation)" }
}
