/// Reads option files like MariaDB's `my_default.c` and keeps the assignments of one group, in order.
///
/// `!include` and `!includedir` are honoured anywhere, also inside other groups, and are processed in place,
/// so later lines override included ones and vice versa. An included file starts without a group, as in
/// MariaDB. Relative include paths are resolved against the including file's directory.
struct OptionFileReader {
    /// MariaDB's limit on nested includes; also stops include cycles the path check cannot see (symlinks).
    static let maximumIncludeDepth = 10

    /// Group whose options are collected; compared exactly (after trimming blanks inside the brackets).
    let group: String
    let readFile: (String) throws -> String
    let listDirectory: (String) throws -> [String]

    /// Collected assignments of ``group``, in file order.
    private(set) var assignments: [OptionAssignment] = []
    /// Files currently being read, outermost first (for cycle detection and the depth limit).
    private var openFiles: [String] = []

    init(
        group: String,
        readFile: @escaping (String) throws -> String,
        listDirectory: @escaping (String) throws -> [String]
    ) {
        self.group = group
        self.readFile = readFile
        self.listDirectory = listDirectory
    }

    /// Parses the text of the file at `path` (already read by the caller, which reports its own read errors).
    mutating func read(contents: String, path: String) throws(ConfigurationError) {
        openFiles.append(path)
        defer { openFiles.removeLast() }

        var currentGroup: String?
        var lines = contents.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
        if let first = lines.first, first.hasPrefix("\u{FEFF}") { lines[0] = first.dropFirst() }  // UTF-8 BOM

        for (index, line) in lines.enumerated() {
            let source = OptionSource.file(path: path, line: index + 1)
            let parsed: OptionFileLine
            do throws(ConfigurationProblem) {
                parsed = try OptionFileLine.parse(line)
            } catch {
                throw ConfigurationError(at: source, error.text)
            }

            switch parsed {
            case .ignorable:
                continue
            case .group(let name):
                currentGroup = name
            case .include(let file):
                try include(Self.resolve(file, relativeTo: path), directive: "!include", at: source)
            case .includeDirectory(let directory):
                try includeDirectory(Self.resolve(directory, relativeTo: path), at: source)
            case .option(let name, let value):
                guard let currentGroup else {
                    throw ConfigurationError(
                        at: source,
                        "found option '\(name)' without preceding group (expected a [\(group)] line first)"
                    )
                }
                // Other programs' groups are skipped unchecked, as MariaDB tools do with foreign options.
                guard currentGroup == group else { continue }
                assignments.append(OptionAssignment(name: name, displayName: name, value: value, source: source))
            }
        }
    }

    private mutating func include(_ file: String, directive: String, at source: OptionSource) throws(ConfigurationError)
    {
        guard !openFiles.contains(file) else {
            throw ConfigurationError(at: source, "\(directive) cycle: '\(file)' is already being read")
        }
        guard openFiles.count <= Self.maximumIncludeDepth else {
            throw ConfigurationError(
                at: source,
                "\(directive) of '\(file)' nested more than \(Self.maximumIncludeDepth) levels deep"
            )
        }
        let contents: String
        do {
            contents = try readFile(file)
        } catch {
            let failure = FileAccessFailure(error)
            throw ConfigurationError(
                at: source,
                failure.isNotFound
                    ? "\(directive) file '\(file)' not found"
                    : "cannot read \(directive) file '\(file)': \(failure.explanation)"
            )
        }
        try read(contents: contents, path: file)
    }

    private mutating func includeDirectory(_ directory: String, at source: OptionSource) throws(ConfigurationError) {
        let names: [String]
        do {
            names = try listDirectory(directory)
        } catch {
            let failure = FileAccessFailure(error)
            throw ConfigurationError(
                at: source,
                failure.isNotFound
                    ? "!includedir directory '\(directory)' not found"
                    : "cannot read !includedir directory '\(directory)': \(failure.explanation)"
            )
        }
        // Only `*.cnf`, in name order, as MariaDB on Unix.
        for name in names.filter({ $0.hasSuffix(".cnf") }).sorted() {
            try include(Self.join(directory, name), directive: "!includedir", at: source)
        }
    }

    /// `path` itself when absolute (or when the including file has no directory part), else next to `file`.
    static func resolve(_ path: String, relativeTo file: String) -> String {
        guard !path.hasPrefix("/"), let slash = file.lastIndex(of: "/") else { return path }
        return join(String(file[...slash]), path)
    }

    static func join(_ directory: String, _ name: String) -> String {
        directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }
}
