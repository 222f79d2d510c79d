/// Where an option assignment came from; it prefixes every error and warning message.
enum OptionSource: Sendable, Equatable, CustomStringConvertible {
    /// Line `line` (1-based) of the option file at `path` (as the path was given or resolved).
    case file(path: String, line: Int)
    /// An argument of the command line.
    case commandLine

    var description: String {
        switch self {
        case .file(let path, let line): return "\(path):\(line)"
        case .commandLine: return "command line"
        }
    }
}
