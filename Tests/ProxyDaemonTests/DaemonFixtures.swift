import Foundation
import ProxyConfiguration
import ProxyServer

/// Settings and snapshots parsed from a command line the way the daemon parses its own.
enum DaemonFixtures {
    /// `--no-defaults`, `backend` (a TCP backend on 127.0.0.1 by default), then `extra`.
    static func settings(_ extra: [String], backend: String = "--backend-host=127.0.0.1") throws -> ProxySettings {
        let parsed = try ProxyCommandLine.parseWithWarnings(["--no-defaults", backend] + extra)
        guard case .run(let settings, _) = parsed.request else { throw FixtureError.notARunRequest }
        return settings
    }

    static func snapshot(_ extra: [String]) throws -> ServerSnapshot {
        try ServerSnapshot.load(settings: settings(extra))
    }

    /// A fresh directory under the system's temporary directory, removed by the caller.
    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appending(path: "ProxyDaemonTests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    enum FixtureError: Error {
        case notARunRequest
    }
}
