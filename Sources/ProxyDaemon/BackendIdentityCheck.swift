import FoundationEssentials
import Glibc
import ProxyConfiguration

/// The backend sees the proxy, not the client: these rules keep the backend from authenticating
/// the proxy's own identity on a client's behalf (docs/security.md, "What the backend sees").
///
/// Over a unix socket, MariaDB's `unix_socket` plugin logs a connection in as the OS user of the
/// connecting process (plugin/auth_socket/auth_socket.c, `SO_PEERCRED`), and since 10.4
/// `root@localhost` and the server's own user (`mysql@localhost`) are created `IDENTIFIED VIA
/// unix_socket`. A proxy running as either would let any client log in as them without a password.
package enum BackendIdentityCheck {
    /// Why the proxy must not relay to `backend` while running as `uid`, or nil when it may.
    ///
    /// - Parameters:
    ///   - uid: the uid the proxy runs as once `user = NAME` is applied (at startup, before the switch).
    ///   - userOption: the `user` option, for the advice when it is unset.
    package static func refusal(backend: BackendEndpoint, uid: uid_t, userOption: String?) -> String? {
        guard case .unixSocket(let path) = backend else { return nil }
        let advice =
            "Run the proxy as its own unprivileged user (user = mariadb-tls-proxy when started as root, "
            + "or systemd User=), or reach the backend over TCP (backend_host; see 'What the backend sees' in docs/security.md)."
        let risk =
            "MariaDB authenticates unix-socket connections by the OS user of the connecting process "
            + "(unix_socket plugin), so every client could log in as"
        if uid == 0 {
            let why = userOption.map { " (user = \($0))" } ?? " ('user' is not set)"
            return "backend_socket '\(path)': the proxy would run as root\(why); \(risk) root@localhost "
                + "without a password. \(advice)"
        }
        if let owner = ownerOfFile(at: path), owner == uid {
            let name = userName(of: uid)
            return "backend_socket '\(path)': the proxy would run as \(name) (uid \(uid)), the owner of the backend's "
                + "socket (the server's own OS user); \(risk) \(name)@localhost without a password. \(advice)"
        }
        return nil
    }

    /// A warning when the socket's owner cannot be checked now (the backend may not be running yet).
    package static func ownerWarning(backend: BackendEndpoint) -> String? {
        guard case .unixSocket(let path) = backend else { return nil }
        var status = stat()
        guard stat(path, &status) != 0 else { return nil }
        return "backend_socket '\(path)' cannot be examined (\(String(cString: strerror(errno)))): "
            + "make sure the proxy does not run as the backend's OS user (the owner of that socket)"
    }

    /// The notice for setups where the backend cannot tell clients apart: neither a PROXY header
    /// nor `strict_accounts`, so any backend account whose host matches the proxy is reachable.
    package static func addressNotice(_ settings: ProxySettings) -> String? {
        guard settings.backendProxyProtocol == .off, !settings.strictAccounts else { return nil }
        let seen: String
        switch settings.backend {
        case .unixSocket: seen = "localhost (the proxy reaches it over backend_socket)"
        case .tcp: seen = "the proxy's own address"
        }
        return "backend_proxy_protocol and strict_accounts are both OFF: the backend sees every client as \(seen), "
            + "so every backend account whose host matches it is reachable through the proxy with the proxy's address "
            + "as its host; see 'What the backend sees' in docs/security.md"
    }

    private static func ownerOfFile(at path: String) -> uid_t? {
        var status = stat()
        guard stat(path, &status) == 0 else { return nil }
        return status.st_uid
    }

    private static func userName(of uid: uid_t) -> String {
        guard let entry = getpwuid(uid), let name = entry.pointee.pw_name else { return "uid \(uid)" }
        return String(cString: name)
    }
}
