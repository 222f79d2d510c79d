/// The command line split into what selects option files, the `--check` flag, and option assignments.
///
/// `--help`/`--version` are handled before this (they win over everything, even a broken option file).
struct CommandLineArguments: Equatable {
    enum OptionFiles: Equatable {
        /// The standard file, skipped silently when missing.
        case standard
        /// `--defaults-file=PATH`: must exist.
        case explicit(String)
        /// `--no-defaults`.
        case none
    }

    var optionFiles = OptionFiles.standard
    var checkOnly = false
    var assignments: [OptionAssignment] = []

    static func scan(_ arguments: [String]) throws(ConfigurationError) -> CommandLineArguments {
        var result = CommandLineArguments()
        var sawDefaultsFile = false
        var sawNoDefaults = false
        var optionsEnded = false
        var index = 0

        func fail(_ text: String) -> ConfigurationError { ConfigurationError(at: .commandLine, text) }

        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            if argument == "--" && !optionsEnded {
                optionsEnded = true  // getopt convention; anything after it is a (rejected) positional argument
                continue
            }
            guard !optionsEnded, argument.hasPrefix("-"), argument != "-" else {
                throw fail("unexpected argument '\(argument)' (options start with '--')")
            }
            guard argument.hasPrefix("--") else { throw fail("unknown option '\(argument)'") }

            let body = argument.dropFirst(2)
            let name: String
            var value: String?
            if let equals = body.firstIndex(of: "=") {
                name = String(body[..<equals])
                value = String(body[body.index(after: equals)...])
            } else {
                name = String(body)
            }
            let display = "--" + name

            switch name.underscored {
            case "defaults_file":
                guard !sawDefaultsFile else { throw fail("option '\(display)' given more than once") }
                if value == nil, index < arguments.count, !arguments[index].hasPrefix("--") {
                    value = arguments[index]
                    index += 1
                }
                guard let path = value, !path.isEmpty else { throw fail("option '\(display)' requires a value") }
                sawDefaultsFile = true
                result.optionFiles = .explicit(path)
            case "no_defaults", "check":
                guard value == nil else { throw fail("option '\(display)' does not take a value") }
                if name.underscored == "check" { result.checkOnly = true } else { sawNoDefaults = true }
            default:
                // `--name value`: only options that need a value take the next argument, and never one
                // that looks like another option, so `--socket --port=1` is not silently misread.
                if value == nil, OptionResolver.takesValue(name), index < arguments.count,
                    !arguments[index].hasPrefix("--")
                {
                    value = arguments[index]
                    index += 1
                }
                result.assignments.append(
                    OptionAssignment(name: name, displayName: display, value: value, source: .commandLine)
                )
            }
        }
        if sawNoDefaults && sawDefaultsFile {
            throw fail("options '--no-defaults' and '--defaults-file' cannot be combined")
        }
        if sawNoDefaults { result.optionFiles = .none }
        return result
    }
}
