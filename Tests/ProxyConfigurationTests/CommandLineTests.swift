import Testing

@testable import ProxyConfiguration

@Suite("Command line")
struct CommandLineTests {
    let noFiles = FakeFileSystem()

    func request(
        _ arguments: [String],
        _ fileSystem: FakeFileSystem = FakeFileSystem()
    ) throws(ConfigurationError) -> CommandLineRequest {
        try fileSystem.parse(arguments).request
    }

    func settings(
        _ arguments: [String],
        _ fileSystem: FakeFileSystem = FakeFileSystem()
    ) throws(ConfigurationError) -> ProxySettings {
        guard case .run(let settings, _) = try request(arguments, fileSystem) else {
            fatalError("expected a run request")
        }
        return settings
    }

    func error(_ arguments: [String], _ fileSystem: FakeFileSystem = FakeFileSystem()) -> String? {
        errorMessage { () throws(ConfigurationError) in _ = try fileSystem.parse(arguments) }
    }

    // MARK: Value forms

    @Test func equalsAndSeparateValueForms() throws {
        #expect(try settings(["--backend-host=db", "--port=1"]).port == 1)
        #expect(try settings(["--backend-host", "db", "--port", "2"]).port == 2)
        #expect(
            try settings(["--backend_host=db", "--bind_address", "::1,127.0.0.1"]).bindAddresses == [
                "::1", "127.0.0.1",
            ]
        )
        #expect(try settings(["--backend-host=db", "--ssl-cipher=a=b"]).tls.cipher == "a=b")
        #expect(try settings(["--backend-host=db", "--socket", ""]).socketPath == nil)
    }

    @Test func booleansDoNotTakeTheNextArgument() throws {
        #expect(try settings(["--require-secure-transport", "--backend-host=db"]).requireSecureTransport)
        #expect(
            error(["--backend-host=db", "--require-secure-transport", "OFF"])
                == "command line: unexpected argument 'OFF' (options start with '--')"
        )
        #expect(try settings(["--backend-host=db", "--require-secure-transport=OFF"]).requireSecureTransport == false)
    }

    @Test func prefixesWorkOnTheCommandLine() throws {
        #expect(
            try settings(["--backend-host=db", "--require_secure_transport", "--skip-require-secure-transport"])
                .requireSecureTransport == false
        )
        #expect(
            try settings(["--backend-host=db", "--disable-require-secure-transport"]).requireSecureTransport == false
        )
        #expect(try settings(["--backend-host=db", "--enable_require_secure_transport"]).requireSecureTransport)
        #expect(try settings(["--backend-host=db", "--loose-port=7"]).port == 7)
        #expect(try settings(["--backend-host=db", "--loose-port", "8"]).port == 8)
    }

    @Test func looseUnknownOptionIsAWarning() throws {
        let parsed = try noFiles.parse(["--loose-foo=1", "--backend-host=db", "--loose-skip-bar"])
        #expect(
            parsed.warnings == [
                "command line: ignoring unknown option '--loose-foo'",
                "command line: ignoring unknown option '--loose-skip-bar'",
            ]
        )
    }

    @Test func valueErrorsNameTheOptionAsWritten() {
        #expect(
            error(["--backend-host=db", "--port=abc"])
                == "command line: option '--port': expected an integer between 0 and 65535, got 'abc'"
        )
        #expect(
            error(["--backend-host=db", "--max_connections", "0"])
                == "command line: option '--max_connections': expected an integer between 1 and 100000, got '0'"
        )
        #expect(error(["--backend-host=db", "--port"]) == "command line: option '--port' requires a value")
        #expect(error(["--backend-host=db", "--port", "--check"]) == "command line: option '--port' requires a value")
        #expect(
            error(["--skip-port", "--backend-host=db"])
                == "command line: option '--skip-port': the 'skip-' prefix only applies to boolean options"
        )
        #expect(
            error(["--skip-require-secure-transport=ON"])
                == "command line: option '--skip-require-secure-transport' does not take a value"
        )
    }

    @Test func unknownOptionsAndArguments() {
        #expect(error(["--prot=1"]) == "command line: unknown option '--prot'; did you mean '--port'?")
        #expect(
            error(["--backend_prot=1"])
                == "command line: unknown option '--backend_prot'; did you mean '--backend-port'?"
        )
        #expect(
            error(["--skip-requre-secure-transport"])
                == "command line: unknown option '--skip-requre-secure-transport'; did you mean '--skip-require-secure-transport'?"
        )
        #expect(error(["--frobnicate"]) == "command line: unknown option '--frobnicate'")
        #expect(error(["-P", "3307"]) == "command line: unknown option '-P'")
        #expect(error(["config.cnf"]) == "command line: unexpected argument 'config.cnf' (options start with '--')")
        #expect(error(["-"]) == "command line: unexpected argument '-' (options start with '--')")
        #expect(
            error(["--backend-host=db", "--", "--port=1"])
                == "command line: unexpected argument '--port=1' (options start with '--')"
        )
    }

    @Test func aTrailingDoubleDashIsAccepted() throws {
        #expect(try settings(["--backend-host=db", "--"]).port == 3306)
    }

    // MARK: Requests

    @Test func checkOnly() throws {
        #expect(
            try request(["--backend-host=db", "--check"]) == .run(try settings(["--backend-host=db"]), checkOnly: true)
        )
        #expect(try request(["--backend-host=db"]) == .run(try settings(["--backend-host=db"]), checkOnly: false))
        #expect(error(["--check=yes"]) == "command line: option '--check' does not take a value")
    }

    @Test(arguments: [
        ["--help"], ["-?"], ["--port=bad", "--help"], ["--version", "-?"], ["--defaults-file=/missing", "--help"],
    ])
    func helpWinsOverEverything(arguments: [String]) throws {
        #expect(try request(arguments) == .help)
    }

    @Test(arguments: [["--version"], ["-V"], ["--prot", "-V"]])
    func version(arguments: [String]) throws {
        #expect(try request(arguments) == .version)
    }

    @Test func parseAndParseWithWarningsAgree() throws {
        let arguments = ["--backend-socket=/run/db.sock", "--loose-x", "--port=9"]
        let parsed = try ProxyCommandLine.parseWithWarnings(
            arguments,
            readFile: noFiles.read,
            listDirectory: noFiles.list
        )
        #expect(
            try ProxyCommandLine.parse(arguments, readFile: noFiles.read, listDirectory: noFiles.list) == parsed.request
        )
        #expect(parsed.warnings == ["command line: ignoring unknown option '--loose-x'"])
    }

    // MARK: Option files and precedence

    @Test func commandLineOverridesTheFileWhereverDefaultsFileAppears() throws {
        let fileSystem = FakeFileSystem([
            "/c.cnf": "[mariadb-tls-proxy]\nbackend_host = db\nport = 1\nlog_level = debug"
        ])
        let s = try settings(["--port=2", "--defaults-file=/c.cnf"], fileSystem)
        #expect(s.port == 2)
        #expect(s.logLevel == .debug)
        #expect(try settings(["--defaults-file", "/c.cnf", "--skip-require-secure-transport"], fileSystem).port == 1)
        #expect(
            try settings(["--defaults_file=/c.cnf", "--backend-host=other"], fileSystem).backend
                == .tcp(host: "other", port: 3306)
        )
    }

    @Test func theStandardFileIsReadWhenPresent() throws {
        let fileSystem = FakeFileSystem([
            ProxyCommandLine.defaultOptionFile: "[mariadb-tls-proxy]\nbackend_socket = /db.sock"
        ])
        #expect(try settings([], fileSystem).backend == .unixSocket(path: "/db.sock"))
        #expect(
            error(["--no-defaults"], fileSystem)
                == "no backend configured: set backend_host (and backend_port) or backend_socket"
        )
    }

    @Test func aMissingStandardFileIsSilentlySkipped() throws {
        #expect(try settings(["--backend-host=db"]).backend == .tcp(host: "db", port: 3306))
    }

    @Test func anUnreadableStandardFileIsAnError() throws {
        var fileSystem = FakeFileSystem([ProxyCommandLine.defaultOptionFile: ""])
        fileSystem.unreadable = [ProxyCommandLine.defaultOptionFile]
        #expect(
            error(["--backend-host=db"], fileSystem)
                == "/etc/mariadb-tls-proxy/mariadb-tls-proxy.cnf: cannot read option file: permission denied"
        )
        #expect(try settings(["--backend-host=db", "--no-defaults"], fileSystem).port == 3306)
    }

    @Test func defaultsFileErrors() {
        var fileSystem = FakeFileSystem(["/locked.cnf": ""])
        fileSystem.unreadable = ["/locked.cnf"]
        #expect(
            error(["--defaults-file=/nope.cnf"]) == "command line: option '--defaults-file': file '/nope.cnf' not found"
        )
        #expect(
            error(["--defaults-file=/locked.cnf"], fileSystem)
                == "command line: option '--defaults-file': cannot read '/locked.cnf': permission denied"
        )
        #expect(error(["--defaults-file="]) == "command line: option '--defaults-file' requires a value")
        #expect(error(["--defaults-file"]) == "command line: option '--defaults-file' requires a value")
        #expect(
            error(["--defaults-file=/a", "--defaults-file=/b"])
                == "command line: option '--defaults-file' given more than once"
        )
        #expect(
            error(["--no-defaults", "--defaults-file=/a"])
                == "command line: options '--no-defaults' and '--defaults-file' cannot be combined"
        )
        #expect(error(["--no-defaults=1"]) == "command line: option '--no-defaults' does not take a value")
    }

    @Test func commandLineMistakesAreReportedBeforeFileMistakes() {
        let fileSystem = FakeFileSystem(["/c.cnf": "[mariadb-tls-proxy]\nport = bad"])
        #expect(
            error(["--defaults-file=/c.cnf", "--prot=1"], fileSystem)
                == "command line: unknown option '--prot'; did you mean '--port'?"
        )
        #expect(
            error(["--defaults-file=/c.cnf", "--port=1"], fileSystem)
                == "/c.cnf:2: option 'port': expected an integer between 0 and 65535, got 'bad'"
        )
    }

    @Test func warningsComeInFileThenCommandLineOrder() throws {
        let fileSystem = FakeFileSystem(["/c.cnf": "[mariadb-tls-proxy]\nloose-a\nbackend_host = db"])
        #expect(
            try fileSystem.parse(["--loose-b", "--defaults-file=/c.cnf"]).warnings == [
                "/c.cnf:2: ignoring unknown option 'loose-a'",
                "command line: ignoring unknown option '--loose-b'",
            ]
        )
    }

    @Test func scannerSplitsTheCommandLine() throws {
        let scanned = try CommandLineArguments.scan([
            "--port", "1", "--check", "--no-defaults", "--skip-require-secure-transport",
        ])
        #expect(scanned.optionFiles == .none)
        #expect(scanned.checkOnly)
        #expect(
            scanned.assignments == [
                OptionAssignment(name: "port", displayName: "--port", value: "1", source: .commandLine),
                OptionAssignment(
                    name: "skip-require-secure-transport",
                    displayName: "--skip-require-secure-transport",
                    value: nil,
                    source: .commandLine
                ),
            ]
        )
    }
}
