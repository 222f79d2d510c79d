import Foundation
import ProxyDaemon
import Testing

@Suite struct ExitStatusTests {
    @Test func configurationErrorsExitWithSysexitsConfig() {
        // sysexits.h: EX_CONFIG 78; docs/operations.md "Exit codes" documents 0, 1 and 78.
        #expect(ExitStatus.configurationError.rawValue == 78)
        #expect(ExitStatus.failure.rawValue == 1)
        #expect(ExitStatus.success.rawValue == 0)
    }

    @Test func onlyRuntimeFailuresAreWorthARestart() {
        #expect(ExitStatus.failure.isWorthRestarting)
        #expect(!ExitStatus.configurationError.isWorthRestarting)
        #expect(!ExitStatus.success.isWorthRestarting)
    }

    /// The shipped unit must stop restarting on exactly the statuses a restart cannot fix.
    @Test func serviceUnitPreventsRestartsOnConfigurationErrors() throws {
        let unit = try String(
            contentsOf: Self.repositoryRoot.appending(path: "systemd/mariadb-tls-proxy.service"),
            encoding: .utf8
        )
        let prevented = unit.split(separator: "\n")
            .filter { $0.hasPrefix("RestartPreventExitStatus=") }
            .flatMap { $0.dropFirst("RestartPreventExitStatus=".count).split(separator: " ") }
            .compactMap { Int32($0) }
        let expected = ExitStatus.allCases.filter { $0 != .success && !$0.isWorthRestarting }.map(\.rawValue)
        #expect(Set(prevented) == Set(expected))
        #expect(unit.contains("\nRestart=on-failure\n"))
    }

    @Test func fatalErrorLineNamesTheProgram() {
        let error = FatalError("option 'ssl_cert': cannot read '/x': no such file", status: .configurationError)
        #expect(error.stderrLine == "mariadb-tls-proxy: option 'ssl_cert': cannot read '/x': no such file\n")
        #expect(error.journalMetadata == ["exit_status": "78"])
        #expect(FatalError("bind failed", status: .failure).journalMetadata == ["exit_status": "1"])
    }

    @Test func versionLineNamesProgramVersionAndOpenSSL() {
        #expect(
            Program.versionLine(openSSL: "OpenSSL 3.0.13 30 Jan 2024")
                == "mariadb-tls-proxy \(Program.version) (OpenSSL 3.0.13 30 Jan 2024)"
        )
    }

    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
}
