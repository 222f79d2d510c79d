import Foundation
import Logging
import ProxyDaemon
import ProxyServer
import Testing

/// ``ReloadService/load(arguments:runningAs:userOption:)``: what a SIGHUP would swap in, or why not.
@Suite struct ReloadLoadTests {
    private func failureMessage(_ outcome: ReloadService.Outcome) -> String? {
        if case .failure(let message) = outcome { return message }
        return nil
    }

    @Test func aValidConfigurationLoads() throws {
        let outcome = ReloadService.load(
            arguments: ["--no-defaults", "--backend-host=127.0.0.1", "--skip-ssl"],
            runningAs: 1000,
            userOption: nil
        )
        guard case .success(let snapshot, let warnings) = outcome else {
            Issue.record("expected success, got \(outcome)")
            return
        }
        #expect(snapshot.tlsContext == nil)
        #expect(snapshot.settings.backend == .tcp(host: "127.0.0.1", port: 3306))
        #expect(warnings.isEmpty)
    }

    @Test func aBrokenOptionFileFailsTheReload() throws {
        let directory = try DaemonFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appending(path: "proxy.cnf")
        try "[mariadb-tls-proxy]\nbackend_host = 127.0.0.1\nno_such_option = 1\n".write(
            to: file,
            atomically: true,
            encoding: .utf8
        )

        let message = failureMessage(
            ReloadService.load(arguments: ["--defaults-file=\(file.path)"], runningAs: 1000, userOption: nil)
        )
        #expect(message?.hasPrefix("Failed to reload the option file: ") == true, "\(message ?? "success")")
        #expect(message?.contains("no_such_option") == true)
    }

    @Test func aCommandLineThatNoLongerRunsFailsTheReload() {
        #expect(
            failureMessage(ReloadService.load(arguments: ["--version"], runningAs: 1000, userOption: nil))
                == "Failed to reload: the command line no longer asks to run"
        )
    }

    @Test func aBackendSocketAsRootFailsTheReload() {
        let message = failureMessage(
            ReloadService.load(
                arguments: ["--no-defaults", "--backend-socket=/nonexistent/mysqld.sock"],
                runningAs: 0,
                userOption: nil
            )
        )
        #expect(
            message?.hasPrefix(
                "Failed to reload: backend_socket '/nonexistent/mysqld.sock': the proxy would run as root"
            ) == true,
            "\(message ?? "success")"
        )
    }

    @Test func aMissingCertificateFailsTheReload() {
        let message = failureMessage(
            ReloadService.load(
                arguments: [
                    "--no-defaults", "--backend-host=127.0.0.1", "--ssl-cert=/nonexistent/cert.pem",
                    "--ssl-key=/nonexistent/key.pem",
                ],
                runningAs: 1000,
                userOption: nil
            )
        )
        #expect(message?.contains("ssl_cert") == true, "\(message ?? "success")")
    }

    @Test func readyLineFields() throws {
        let plain = try DaemonFixtures.snapshot(["--skip-ssl", "--require-secure-transport=OFF"])
        #expect(
            Daemon.readyMetadata(addresses: ["127.0.0.1:3307", "/run/p.sock"], snapshot: plain) == [
                "listen": "127.0.0.1:3307, /run/p.sock",
                "backend": "\(plain.settings.backend)",
                "require_secure_transport": "OFF",
                "version": "\(Program.version)",
            ]
        )

        let tls = try DaemonFixtures.snapshot([])
        let metadata = Daemon.readyMetadata(addresses: ["127.0.0.1:3307"], snapshot: tls)
        #expect(metadata["certificate"] == "\(tls.tlsContext!.certificate!.subject)")
        #expect(metadata["serial"] == "\(tls.tlsContext!.certificate!.serial)")
        #expect(metadata["tls_version"] != nil)
        #expect(metadata["expires"]?.description.hasSuffix("Z") == true)
        #expect(metadata["accounts"] == nil)
    }
}
