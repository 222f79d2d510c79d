import FoundationEssentials
import Glibc
import Logging
import ProxyConfiguration
import ProxyServer
import ServiceLifecycle
import UnixSignals

/// SIGHUP = MariaDB's `FLUSH SSL`, made transactional: re-read the option file(s) and the accounts
/// file, rebuild the TLS context (certificate, key, CA, CRL, ciphers, TLS versions), and swap the
/// whole snapshot in for new connections only if every part loaded. On any failure nothing changes.
package struct ReloadService: Service {
    let arguments: [String]
    let server: ProxyServer
    let logger: Logger
    let counters: ReloadCounters
    let notifier: ReloadNotifier

    package func run() async throws {
        // The configuration in use was loaded at startup: that is the last (successful) load so far.
        counters.recordLoad(succeeded: true)
        for await _ in await UnixSignalsSequence(trapping: .sighup).cancelOnGracefulShutdown() {
            reload()
        }
    }

    /// One reload; blocking file I/O runs here, on the signal task, never on an event loop.
    func reload() {
        notifier.reloading()
        let outcome = Self.load(
            arguments: arguments,
            runningAs: geteuid(),
            userOption: server.currentSnapshot.settings.user
        )
        switch outcome {
        case .failure(let message):
            counters.recordReload(succeeded: false)
            logger.error("\(message)", metadata: ["reload": "failed"])
            notifier.reloaded(status: "reload failed, previous configuration kept: \(message)")
        case .success(let snapshot, let warnings):
            for warning in warnings + snapshot.warnings { logger.warning("\(warning)") }
            if let warning = snapshot.keyPermissionWarning(service: .current) { logger.warning("\(warning)") }
            if let warning = BackendIdentityCheck.ownerWarning(backend: snapshot.settings.backend) {
                logger.warning("\(warning)")
            }
            for note in server.install(snapshot) { logger.warning("\(note)") }
            if let notice = BackendIdentityCheck.addressNotice(server.currentSnapshot.settings) {
                logger.notice("\(notice)")
            }
            // The metrics first: whoever reads "reload succeeded" may scrape them at once.
            CertificateExpiryWatch.report(snapshot, logger: logger)
            CertificateExpiryWatch.publish(snapshot)
            counters.recordReload(succeeded: true)
            var metadata: Logger.Metadata = ["reload": "succeeded"]
            for (key, value) in snapshot.tlsContext?.certificate?.logFields ?? [] { metadata[key] = "\(value)" }
            if let policy = snapshot.policy { metadata["accounts"] = "\(policy.rows.count) rows" }
            logger.notice(
                "reload succeeded: new connections use the reloaded certificate and accounts",
                metadata: metadata
            )
            notifier.reloaded(status: "reload succeeded")
        }
    }

    package enum Outcome {
        case success(ServerSnapshot, warnings: [String])
        case failure(String)
    }

    /// Parses the command line and its option files again, then builds the snapshot. A backend the
    /// proxy may not relay to as `uid` (``BackendIdentityCheck``) fails the reload like a bad file.
    package static func load(arguments: [String], runningAs uid: uid_t, userOption: String?) -> Outcome {
        let parsed: ParsedCommandLine
        do {
            parsed = try ProxyCommandLine.parseWithWarnings(arguments)
        } catch {
            return .failure("Failed to reload the option file: \(error)")
        }
        guard case .run(let settings, _) = parsed.request else {
            return .failure("Failed to reload: the command line no longer asks to run")
        }
        if let refusal = BackendIdentityCheck.refusal(backend: settings.backend, uid: uid, userOption: userOption) {
            return .failure("Failed to reload: \(refusal)")
        }
        do {
            return .success(try ServerSnapshot.load(settings: settings), warnings: parsed.warnings)
        } catch {
            return .failure(error.reloadMessage)
        }
    }
}

/// What the reload tells the service manager; the systemd notifier in production.
package struct ReloadNotifier: Sendable {
    var onReloading: @Sendable () -> Void = {}
    var onReloaded: @Sendable (_ status: String) -> Void = { _ in }

    func reloading() { onReloading() }
    func reloaded(status: String) { onReloaded(status) }
}
