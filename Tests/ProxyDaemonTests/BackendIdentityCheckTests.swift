import Foundation
import Glibc
import ProxyConfiguration
import ProxyDaemon
import Testing

/// The backend must never authenticate the proxy's own OS identity on a client's behalf
/// (docs/security.md, "What the backend sees").
@Suite struct BackendIdentityCheckTests {
    @Test func aTCPBackendIsNeverRefused() {
        #expect(
            BackendIdentityCheck.refusal(backend: .tcp(host: "127.0.0.1", port: 3306), uid: 0, userOption: nil) == nil
        )
        #expect(BackendIdentityCheck.ownerWarning(backend: .tcp(host: "127.0.0.1", port: 3306)) == nil)
    }

    @Test func rootOverAUnixSocketIsRefused() throws {
        let unset = try #require(
            BackendIdentityCheck.refusal(backend: .unixSocket(path: "/run/mysqld/mysqld.sock"), uid: 0, userOption: nil)
        )
        #expect(
            unset.hasPrefix(
                "backend_socket '/run/mysqld/mysqld.sock': the proxy would run as root ('user' is not set);"
            )
        )
        #expect(unset.contains("root@localhost without a password"))
        #expect(unset.contains("docs/security.md"))

        let root = try #require(
            BackendIdentityCheck.refusal(backend: .unixSocket(path: "/s.sock"), uid: 0, userOption: "root")
        )
        #expect(root.contains("the proxy would run as root (user = root);"))
    }

    @Test func theSocketOwnerIsRefusedAndAnyOtherUserAdmitted() throws {
        let directory = try DaemonFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let socketPath = directory.appending(path: "mysqld.sock").path
        #expect(FileManager.default.createFile(atPath: socketPath, contents: nil))
        // As root (CI) the file is handed to an unprivileged uid; otherwise it is ours already.
        let owner: uid_t = geteuid() == 0 ? 54_321 : geteuid()
        if geteuid() == 0 { #expect(chown(socketPath, owner, gid_t(owner)) == 0) }

        let refusal = try #require(
            BackendIdentityCheck.refusal(backend: .unixSocket(path: socketPath), uid: owner, userOption: "mysql")
        )
        #expect(refusal.contains("(uid \(owner)), the owner of the backend's socket"))
        #expect(refusal.contains("@localhost without a password"))
        #expect(
            BackendIdentityCheck.refusal(backend: .unixSocket(path: socketPath), uid: owner + 1, userOption: "proxy")
                == nil
        )
        #expect(BackendIdentityCheck.ownerWarning(backend: .unixSocket(path: socketPath)) == nil)
    }

    @Test func aSocketThatCannotBeExaminedIsAWarningNotARefusal() throws {
        let path = "/nonexistent-\(UUID().uuidString)/mysqld.sock"
        #expect(BackendIdentityCheck.refusal(backend: .unixSocket(path: path), uid: 54_321, userOption: nil) == nil)
        let warning = try #require(BackendIdentityCheck.ownerWarning(backend: .unixSocket(path: path)))
        #expect(
            warning == "backend_socket '\(path)' cannot be examined (No such file or directory): "
                + "make sure the proxy does not run as the backend's OS user (the owner of that socket)"
        )
    }

    @Test func addressNoticeOnlyWhenTheBackendCannotTellClientsApart() throws {
        let tcp = try #require(BackendIdentityCheck.addressNotice(DaemonFixtures.settings([])))
        #expect(
            tcp.hasPrefix(
                "backend_proxy_protocol and strict_accounts are both OFF: the backend sees every client as the proxy's own address,"
            )
        )

        let socket = try DaemonFixtures.settings([], backend: "--backend-socket=/run/mysqld/mysqld.sock")
        #expect(
            BackendIdentityCheck.addressNotice(socket)?.contains(
                "as localhost (the proxy reaches it over backend_socket)"
            ) == true
        )

        #expect(BackendIdentityCheck.addressNotice(try DaemonFixtures.settings(["--strict-accounts"])) == nil)
        #expect(BackendIdentityCheck.addressNotice(try DaemonFixtures.settings(["--backend-proxy-protocol=v2"])) == nil)
    }
}
