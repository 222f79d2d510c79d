import Testing

@testable import ProxyConfiguration

@Suite("!include and !includedir")
struct IncludeTests {
    @Test func includeIsProcessedInPlace() throws {
        let main = """
            [mariadb-tls-proxy]
            backend_host = db
            port = 1
            max_connections = 1
            !include /etc/extra.cnf
            max_connections = 3
            """
        let extra = "[mariadb-tls-proxy]\nport = 2\nmax_connections = 2\n"
        let s = try run(main, extraFiles: ["/etc/extra.cnf": extra]).settings
        #expect(s.port == 2)  // included after port = 1
        #expect(s.maxConnections == 3)  // set again after the include
    }

    @Test func relativePathsAreRelativeToTheIncludingFile() throws {
        let files = [
            "/t/sub/a.cnf": "!include ../b.cnf\n[mariadb-tls-proxy]\nport = 11",
            // Paths are joined, not normalised: the operating system resolves `..`.
            "/t/sub/../b.cnf": "[mariadb-tls-proxy]\nsocket = /b.sock",
        ]
        let s = try run("!include sub/a.cnf\n[mariadb-tls-proxy]\nbackend_host = db", extraFiles: files).settings
        #expect(s.port == 11)
        #expect(s.socketPath == "/b.sock")
    }

    @Test func directivesWorkInsideOtherGroupsAndIncludedFilesStartWithoutAGroup() throws {
        let main = "[client]\n!include /x.cnf\nport = 1\n[mariadb-tls-proxy]\nbackend_host = db"
        // The include happens although [client] is open; after it, [client] is still the current group.
        let s = try run(main, extraFiles: ["/x.cnf": "[mariadb-tls-proxy]\nport = 5"]).settings
        #expect(s.port == 5)
        // The proxy group open in the including file does not carry into the included one.
        #expect(
            fileError("[mariadb-tls-proxy]\n!include /x.cnf", extraFiles: ["/x.cnf": "port = 1"])
                == "/x.cnf:1: found option 'port' without preceding group (expected a [mariadb-tls-proxy] line first)"
        )
    }

    @Test func errorsInsideIncludedFilesNameThatFile() {
        let extra = "# extra\n[mariadb-tls-proxy]\nport = x"
        #expect(
            fileError("[mariadb-tls-proxy]\n!include /x.cnf", extraFiles: ["/x.cnf": extra])
                == "/x.cnf:3: option 'port': expected an integer between 0 and 65535, got 'x'"
        )
    }

    @Test func missingOrUnreadableIncludeNamesTheIncludingLine() {
        #expect(
            fileError("[mariadb-tls-proxy]\nbackend_host = db\n!include missing.cnf")
                == "/t/my.cnf:3: !include file '/t/missing.cnf' not found"
        )
        var fileSystem = FakeFileSystem([cnfPath: "!include /secret.cnf", "/secret.cnf": ""])
        fileSystem.unreadable = ["/secret.cnf"]
        #expect(
            errorMessage { () throws(ConfigurationError) in _ = try fileSystem.parse(["--defaults-file=\(cnfPath)"]) }
                == "/t/my.cnf:1: cannot read !include file '/secret.cnf': permission denied"
        )
    }

    @Test func includeCyclesAreErrors() {
        #expect(
            fileError("[mariadb-tls-proxy]\n!include my.cnf")
                == "/t/my.cnf:2: !include cycle: '/t/my.cnf' is already being read"
        )
        let files = ["/t/a.cnf": "!include b.cnf", "/t/b.cnf": "\n!include a.cnf"]
        #expect(
            fileError("!include a.cnf", extraFiles: files)
                == "/t/b.cnf:2: !include cycle: '/t/a.cnf' is already being read"
        )
    }

    @Test func nestingIsLimitedToTenLevels() throws {
        // my.cnf → f1 → … → f10 is allowed (ten nested levels); one more is not.
        var files: [String: String] = [:]
        for level in 1...10 { files["/t/f\(level).cnf"] = "!include f\(level + 1).cnf" }
        files["/t/f11.cnf"] = "[mariadb-tls-proxy]\nport = 11"
        #expect(
            fileError("!include f1.cnf\n[mariadb-tls-proxy]\nbackend_host = db", extraFiles: files)
                == "/t/f10.cnf:1: !include of '/t/f11.cnf' nested more than 10 levels deep"
        )
        files["/t/f10.cnf"] = "[mariadb-tls-proxy]\nport = 10"
        #expect(
            try run("!include f1.cnf\n[mariadb-tls-proxy]\nbackend_host = db", extraFiles: files).settings.port == 10
        )
    }

    @Test func includedirReadsCnfFilesSortedByName() throws {
        let files = [
            "/t/conf.d/20-port.cnf": "[mariadb-tls-proxy]\nport = 20\nmax_connections = 20",
            "/t/conf.d/10-port.cnf": "[mariadb-tls-proxy]\nport = 10\nsocket = /ten.sock",
            "/t/conf.d/30-notes.txt": "[mariadb-tls-proxy]\nport = 30",
            "/t/conf.d/99.cnf.bak": "[mariadb-tls-proxy]\nport = 99",
            "/t/conf.d/sub/40.cnf": "[mariadb-tls-proxy]\nport = 40",
        ]
        let s = try run(
            "[mariadb-tls-proxy]\nbackend_host = db\nmax_connections = 1\n!includedir conf.d",
            extraFiles: files
        ).settings
        #expect(s.port == 20)
        #expect(s.socketPath == "/ten.sock")
        #expect(s.maxConnections == 20)
    }

    @Test func emptyIncludedirIsFine() throws {
        var fileSystem = FakeFileSystem([cnfPath: "!includedir /empty\n[mariadb-tls-proxy]\nbackend_host = db"])
        fileSystem.directories = ["/empty"]
        #expect(try fileSystem.parse(["--defaults-file=\(cnfPath)"]).request != .help)
    }

    @Test func missingIncludedirNamesTheIncludingLine() {
        #expect(
            fileError("# x\n!includedir /etc/nowhere/")
                == "/t/my.cnf:2: !includedir directory '/etc/nowhere/' not found"
        )
    }

    @Test func includedirFileThatVanishesIsReported() {
        var fileSystem = FakeFileSystem([cnfPath: "!includedir /d", "/d/a.cnf": ""])
        fileSystem.unreadable = ["/d/a.cnf"]
        #expect(
            errorMessage { () throws(ConfigurationError) in _ = try fileSystem.parse(["--defaults-file=\(cnfPath)"]) }
                == "/t/my.cnf:1: cannot read !includedir file '/d/a.cnf': permission denied"
        )
    }

    @Test func pathResolution() {
        #expect(OptionFileReader.resolve("x.cnf", relativeTo: "/etc/a/my.cnf") == "/etc/a/x.cnf")
        #expect(OptionFileReader.resolve("/abs.cnf", relativeTo: "/etc/a/my.cnf") == "/abs.cnf")
        #expect(OptionFileReader.resolve("x.cnf", relativeTo: "my.cnf") == "x.cnf")
        #expect(OptionFileReader.resolve("x.cnf", relativeTo: "/my.cnf") == "/x.cnf")
        #expect(OptionFileReader.join("/d/", "a.cnf") == "/d/a.cnf")
    }
}
