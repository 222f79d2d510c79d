import Foundation
import Testing

@testable import ProxyConfiguration

/// Keeps `--help`, the example option file and `docs/configuration.md` in step with the option table.
@Suite("Help text, example file and docs")
struct DocumentationTests {
    /// The repository root, found from this file's location (Tests/ProxyConfigurationTests/…).
    static let repositoryRoot = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test func helpListsEveryOptionWithItsDefault() {
        let help = ProxyCommandLine.helpText
        #expect(help.hasPrefix("Usage: mariadb-tls-proxy"))
        for spec in OptionCatalog.all {
            let line = help.split(separator: "\n").first { $0.hasPrefix("  \(spec.commandLineName)") }
            #expect(line != nil, "\(spec.name) missing from --help")
            #expect(line?.hasSuffix("(default: \(spec.displayedDefault))") == true, "\(spec.name) default missing")
        }
        for general in ["--defaults-file=PATH", "--no-defaults", "--check", "-?, --help", "-V, --version"] {
            #expect(help.contains("  \(general) "))
        }
        #expect(help.contains("  --port=#"))
        #expect(help.contains("  --require-secure-transport "))
        #expect(help.contains("(default: TLSv1.2,TLSv1.3)"))
        #expect(help.contains("(default: none)"))
    }

    @Test func theExampleOptionFileIsValid() throws {
        let path = Self.repositoryRoot.appendingPathComponent("config/mariadb-tls-proxy.cnf").path
        let parsed = try ProxyCommandLine.parseWithWarnings(["--defaults-file=\(path)", "--check"])
        guard case .run(let settings, checkOnly: true) = parsed.request else {
            Issue.record("expected a check request")
            return
        }
        #expect(parsed.warnings.isEmpty)
        #expect(settings.tls.isEnabled)
    }

    @Test func theReferenceDocumentsEveryOption() throws {
        let path = Self.repositoryRoot.appendingPathComponent("docs/configuration.md").path
        let text = try String(contentsOfFile: path, encoding: .utf8)
        for spec in OptionCatalog.all {
            #expect(text.contains("### `\(spec.name)`"), "\(spec.name) not documented")
        }
    }

    @Test func realFileSystemAccess() throws {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("proxy-config-\(UInt64.random(in: 0...UInt64.max))")
        try FileManager.default.createDirectory(
            at: directory.appendingPathComponent("conf.d"),
            withIntermediateDirectories: true
        )
        defer { try? FileManager.default.removeItem(at: directory) }
        let main = directory.appendingPathComponent("main.cnf")
        try "[mariadb-tls-proxy]\nbackend_host = db\n!includedir conf.d\n".write(
            to: main,
            atomically: true,
            encoding: .utf8
        )
        try "[mariadb-tls-proxy]\nport = 4000\n".write(
            to: directory.appendingPathComponent("conf.d/a.cnf"),
            atomically: true,
            encoding: .utf8
        )
        try "[mariadb-tls-proxy]\nport = 5000\n".write(
            to: directory.appendingPathComponent("conf.d/b.cnf"),
            atomically: true,
            encoding: .utf8
        )

        guard case .run(let settings, _) = try ProxyCommandLine.parse(["--defaults-file=\(main.path)"]) else {
            Issue.record("expected a run request")
            return
        }
        #expect(settings.port == 5000)

        let missing = directory.appendingPathComponent("missing.cnf").path
        #expect(throws: OptionFileAccessError.notFound(missing)) { try ProxyCommandLine.defaultReadFile(missing) }
        #expect(throws: OptionFileAccessError.unreadable(directory.path, "is a directory")) {
            try ProxyCommandLine.defaultReadFile(directory.path)
        }
        #expect(throws: OptionFileAccessError.notFound(missing)) { try ProxyCommandLine.defaultListDirectory(missing) }
        #expect(
            try ProxyCommandLine.defaultListDirectory(directory.appendingPathComponent("conf.d").path).sorted() == [
                "a.cnf", "b.cnf",
            ]
        )
    }

    @Test func foundationNotFoundErrorsAreRecognised() {
        #expect(FileAccessFailure(CocoaError(.fileReadNoSuchFile)).isNotFound)
        #expect(FileAccessFailure(POSIXError(.ENOENT)).isNotFound)
        #expect(FileAccessFailure(POSIXError(.EACCES)).isNotFound == false)
    }

    @Test func editDistance() {
        #expect(EditDistance.between("prot", "port") == 1)
        #expect(EditDistance.between("", "abc") == 3)
        #expect(EditDistance.between("kitten", "sitting") == 3)
    }
}
