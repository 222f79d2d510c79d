@testable import ProxyConfiguration

/// An in-memory file system for the `readFile` / `listDirectory` closures.
struct FakeFileSystem {
    var files: [String: String] = [:]
    /// Paths that exist but cannot be read.
    var unreadable: Set<String> = []
    /// Extra directories (beyond those implied by `files`), e.g. empty ones.
    var directories: Set<String> = []

    init(_ files: [String: String] = [:]) {
        self.files = files
    }

    func read(_ path: String) throws -> String {
        if unreadable.contains(path) { throw OptionFileAccessError.unreadable(path, "permission denied") }
        guard let text = files[path] else { throw OptionFileAccessError.notFound(path) }
        return text
    }

    func list(_ directory: String) throws -> [String] {
        let prefix = directory.hasSuffix("/") ? directory : directory + "/"
        let names = files.keys.filter { $0.hasPrefix(prefix) }
            .map { String($0.dropFirst(prefix.count)) }
            .filter { !$0.contains("/") }
        guard !names.isEmpty || directories.contains(directory) else { throw OptionFileAccessError.notFound(directory) }
        return names.shuffled()  // the reader must sort, whatever order the system returns
    }

    func parse(_ arguments: [String]) throws(ConfigurationError) -> ParsedCommandLine {
        try ProxyCommandLine.parseWithWarnings(arguments, readFile: read, listDirectory: list)
    }
}

/// Path of the main option file in most tests.
let cnfPath = "/t/my.cnf"

/// Parses `cnf` as `--defaults-file` plus `arguments`; returns settings and warnings.
func run(
    _ cnf: String,
    _ arguments: [String] = [],
    extraFiles: [String: String] = [:]
) throws(ConfigurationError) -> (settings: ProxySettings, warnings: [String]) {
    var fileSystem = FakeFileSystem(extraFiles)
    fileSystem.files[cnfPath] = cnf
    let parsed = try fileSystem.parse(["--defaults-file=\(cnfPath)"] + arguments)
    guard case .run(let settings, _) = parsed.request else { fatalError("expected a run request") }
    return (settings, parsed.warnings)
}

/// Settings from an option file whose group is opened for you and which names a backend first.
func settings(_ groupBody: String, _ arguments: [String] = []) throws(ConfigurationError) -> ProxySettings {
    try run("[mariadb-tls-proxy]\nbackend_host = db\n" + groupBody, arguments).settings
}

/// The message of the error `body` throws, or `nil` if it does not throw.
func errorMessage(_ body: () throws(ConfigurationError) -> Void) -> String? {
    do {
        try body()
        return nil
    } catch {
        return error.message
    }
}

/// Shorthand: the error message for a file.
func fileError(_ cnf: String, _ arguments: [String] = [], extraFiles: [String: String] = [:]) -> String? {
    errorMessage { () throws(ConfigurationError) in _ = try run(cnf, arguments, extraFiles: extraFiles) }
}

/// Shorthand: the error message for an option group body (group and backend provided).
func groupError(_ groupBody: String, _ arguments: [String] = []) -> String? {
    errorMessage { () throws(ConfigurationError) in _ = try settings(groupBody, arguments) }
}
