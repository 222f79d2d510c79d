/// One `name[=value]` as written in an option file or on the command line, before it is checked.
struct OptionAssignment: Sendable, Equatable {
    /// The option name as written, without the command line's leading `--` (prefixes such as `loose-` included).
    var name: String
    /// How messages quote the option: the file spelling (`port`) or the argument spelling (`--port`).
    var displayName: String
    /// The value after `=` (quotes and escapes already processed for files); `nil` for a bare name.
    var value: String?
    var source: OptionSource
}
