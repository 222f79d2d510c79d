/// The daemon's command line and option files: MariaDB conventions in, a validated ``ProxySettings`` out.
///
/// Order of precedence (later wins): the table defaults, the option file (the standard file, or
/// `--defaults-file`, with its `!include`/`!includedir`), then the command line. Only the
/// `[mariadb-tls-proxy]` group is applied. See `docs/configuration.md` for the full reference.
///
/// Warnings (unknown `loose-` options, ignored settings) are returned by ``parseWithWarnings(_:readFile:listDirectory:)``;
/// ``parse(_:readFile:listDirectory:)`` drops them.
public enum ProxyCommandLine {
    /// The option-file group that is applied; all other groups are ignored.
    public static let optionGroup = "mariadb-tls-proxy"

    /// Read when neither `--defaults-file` nor `--no-defaults` is given; silently skipped if missing.
    public static let defaultOptionFile = "/etc/mariadb-tls-proxy/mariadb-tls-proxy.cnf"

    /// Canonical names (underscored) of every option accepted in option files and, as `--name`, on the command line.
    public static let knownOptions: [String] = OptionCatalog.all.map(\.name)

    /// Parses `arguments` (without argv[0]) and the option files they select.
    ///
    /// - Parameters:
    ///   - readFile: returns a file's text; should throw ``OptionFileAccessError/notFound(_:)`` when it is missing.
    ///   - listDirectory: returns the entry *names* of a directory (for `!includedir`).
    /// - Throws: ``ConfigurationError`` with a one-line, located message.
    public static func parse(
        _ arguments: [String],
        readFile: (String) throws -> String = defaultReadFile,
        listDirectory: (String) throws -> [String] = defaultListDirectory
    ) throws(ConfigurationError) -> CommandLineRequest {
        try parseWithWarnings(arguments, readFile: readFile, listDirectory: listDirectory).request
    }

    /// Like ``parse(_:readFile:listDirectory:)``, also returning warnings the daemon should log.
    public static func parseWithWarnings(
        _ arguments: [String],
        readFile: (String) throws -> String = defaultReadFile,
        listDirectory: (String) throws -> [String] = defaultListDirectory
    ) throws(ConfigurationError) -> ParsedCommandLine {
        // Help and version win over everything, so they work even with a broken configuration.
        if arguments.contains(where: { $0 == "--help" || $0 == "-?" }) { return ParsedCommandLine(request: .help) }
        if arguments.contains(where: { $0 == "--version" || $0 == "-V" }) {
            return ParsedCommandLine(request: .version)
        }
        if arguments.contains("--help-man") { return ParsedCommandLine(request: .manPage) }

        let commandLine = try CommandLineArguments.scan(arguments)
        // The command line is checked before files are read: a typo in what was just typed is reported first.
        var commandLineWarnings: [String] = []
        let commandLineValues = try resolve(
            commandLine.assignments,
            style: .commandLine,
            warnings: &commandLineWarnings
        )

        var warnings: [String] = []
        let fileAssignments = try withoutActuallyEscaping(readFile) { readFile throws(ConfigurationError) in
            try withoutActuallyEscaping(listDirectory) { listDirectory throws(ConfigurationError) in
                try readOptionFiles(commandLine.optionFiles, readFile: readFile, listDirectory: listDirectory)
            }
        }
        let fileValues = try resolve(fileAssignments, style: .optionFile, warnings: &warnings)
        warnings += commandLineWarnings

        var draft = SettingsDraft()
        for (spec, value, source) in fileValues + commandLineValues {
            draft.set(spec, to: value, from: source)
        }
        let (settings, finalWarnings) = try draft.finish()
        return ParsedCommandLine(
            request: .run(settings, checkOnly: commandLine.checkOnly),
            warnings: warnings + finalWarnings
        )
    }

    private static func resolve(
        _ assignments: [OptionAssignment],
        style: OptionResolver.Style,
        warnings: inout [String]
    ) throws(ConfigurationError) -> [(OptionSpec, OptionValue, OptionSource)] {
        var values: [(OptionSpec, OptionValue, OptionSource)] = []
        for assignment in assignments {
            switch try OptionResolver.resolve(assignment, style: style) {
            case .set(let spec, let value): values.append((spec, value, assignment.source))
            case .ignored(let warning): warnings.append(warning)
            }
        }
        return values
    }

    private static func readOptionFiles(
        _ selection: CommandLineArguments.OptionFiles,
        readFile: @escaping (String) throws -> String,
        listDirectory: @escaping (String) throws -> [String]
    ) throws(ConfigurationError) -> [OptionAssignment] {
        let path: String
        let contents: String
        switch selection {
        case .none:
            return []
        case .standard:
            path = defaultOptionFile
            do {
                contents = try readFile(path)
            } catch {
                let failure = FileAccessFailure(error)
                if failure.isNotFound { return [] }  // running on command-line options alone is fine
                throw ConfigurationError("\(path): cannot read option file: \(failure.explanation)")
            }
        case .explicit(let explicitPath):
            path = explicitPath
            do {
                contents = try readFile(path)
            } catch {
                let failure = FileAccessFailure(error)
                throw ConfigurationError(
                    at: .commandLine,
                    failure.isNotFound
                        ? "option '--defaults-file': file '\(path)' not found"
                        : "option '--defaults-file': cannot read '\(path)': \(failure.explanation)"
                )
            }
        }
        var reader = OptionFileReader(group: optionGroup, readFile: readFile, listDirectory: listDirectory)
        try reader.read(contents: contents, path: path)
        return reader.assignments
    }
}
