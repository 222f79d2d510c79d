import Testing

@testable import AccessPolicy

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

@Suite("load(path:): the convenience file loader")
struct PolicyFileLoadTests {
    /// Writes `bytes` to a fresh temporary file and returns its path.
    private func temporaryFile(_ bytes: [UInt8]) throws -> String {
        var template = Array("/tmp/access-policy-test-XXXXXX.sql".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemps($0.baseAddress!, 4) }
        try #require(fd >= 0)
        defer { close(fd) }
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        try #require(written == bytes.count)
        return String(cString: template)
    }

    @Test("a file on disk; errors carry its path")
    func loadsFile() throws {
        let path = try temporaryFile(Array("CREATE USER a REQUIRE SSL;\nCREATE USER b REQUIRE NOPE;\n".utf8))
        defer { unlink(path) }
        do {
            _ = try AccessPolicy.load(path: path)
            Issue.record("expected an error")
        } catch {
            #expect(error.location == SourceLocation(file: path, line: 2, column: 23))
        }
        let good = try temporaryFile(Array("CREATE USER a REQUIRE SSL;".utf8))
        defer { unlink(good) }
        let policy = try AccessPolicy.load(path: good)
        #expect(policy.row("a", "%")?.definedAt.file == good)
    }

    @Test("a UTF-8 byte-order mark is skipped; invalid UTF-8 is refused at path:0:0")
    func encoding() throws {
        let bom = try temporaryFile([0xEF, 0xBB, 0xBF] + Array("CREATE USER a REQUIRE X509;".utf8))
        defer { unlink(bom) }
        #expect(try AccessPolicy.load(path: bom).requirement("a", "%") == .x509)
        let invalid = try temporaryFile(Array("CREATE USER '".utf8) + [0xFF, 0xFE] + Array("';".utf8))
        defer { unlink(invalid) }
        do {
            _ = try AccessPolicy.load(path: invalid)
            Issue.record("expected an error")
        } catch {
            #expect(
                error
                    == PolicyParseError(
                        location: SourceLocation(file: invalid, line: 0, column: 0),
                        message: "the policy file is not valid UTF-8"
                    )
            )
        }
    }

    @Test("a directory is not a policy file")
    func directory() {
        do {
            _ = try AccessPolicy.load(path: "/tmp")
            Issue.record("expected an error")
        } catch {
            #expect(error.location.line == 0 && error.location.column == 0)
        }
    }
}
