/// A configuration mistake, described in one line that names where it is
/// (`FILE:LINE`, or `command line` plus the option) and what was expected.
///
/// The daemon prints ``message`` and exits; tests compare it verbatim, so the wording is part of the API.
public struct ConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The complete, human-readable text, location first.
    public let message: String

    public var description: String { message }

    public init(_ message: String) {
        self.message = message
    }

    /// An error located at `source`: `"<source>: <text>"`.
    init(at source: OptionSource, _ text: String) {
        self.init("\(source): \(text)")
    }
}

/// A problem whose location is not known yet (a bad value, a malformed line).
/// The caller that knows the file and line turns it into a ``ConfigurationError``.
struct ConfigurationProblem: Error, Equatable {
    let text: String

    init(_ text: String) {
        self.text = text
    }
}
