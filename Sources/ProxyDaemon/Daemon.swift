import FoundationEssentials
import Glibc
import Logging
import Metrics
import Prometheus
import ProxyConfiguration
import ProxyServer
import ProxyTLS
import SystemdIntegration

/// The daemon: reads the command line and option files, loads and checks the configuration, then
/// serves until SIGTERM/SIGINT. The executable's `main.swift` only calls ``main(arguments:)``.
public enum Daemon {
    /// Runs the daemon; never returns. Exits 0 after `--help`, `--version`, `--help-man`, a passing
    /// `--check` or a clean shutdown, otherwise with an ``ExitStatus``.
    ///
    /// - Parameter arguments: the command line without argv[0].
    public static func main(arguments: [String]) -> Never {
        // SIGHUP's default action would terminate the process before the reload service traps it.
        signal(SIGHUP, SIG_IGN)

        let parsed: ParsedCommandLine
        do {
            parsed = try ProxyCommandLine.parseWithWarnings(arguments)
        } catch {
            fail("\(error)", status: ExitStatus.configurationError)
        }

        let settings: ProxySettings
        let checkOnly: Bool
        switch parsed.request {
        case .help:
            print(ProxyCommandLine.helpText)
            exit(0)
        case .version:
            print(Program.versionLine(openSSL: OpenSSLVersion.text))
            exit(0)
        case .manPage:
            print(ProxyCommandLine.manPage(version: Program.version), terminator: "")
            exit(0)
        case .run(let runSettings, let check):
            settings = runSettings
            checkOnly = check
        }

        let logger = bootstrapLogging(level: settings.logLevel)
        let metricsRegistry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(DescribedMetricsFactory(registry: metricsRegistry))
        ProxyMetrics.recordBuildInfo(version: Program.version, openSSL: OpenSSLVersion.text)

        let (snapshot, privilegeDrop) = loadAndCheck(settings, warnings: parsed.warnings, logger: logger)

        if checkOnly {
            print("\(Program.name): configuration OK")
            exit(0)
        }

        if let notice = BackendIdentityCheck.addressNotice(settings) {
            logger.notice("\(notice)")
        }
        if snapshot.tlsContext == nil {
            logger.warning("ssl is OFF: TLS is not offered to clients")
        } else if snapshot.tlsContext?.certificateIsGenerated == true {
            logger.notice(
                "no ssl_cert/ssl_key configured: serving a self-signed certificate generated in memory (CN=MariaDB Server); a new one at every reload"
            )
        }
        if snapshot.tlsContext != nil {
            logger.notice("\(KernelTLS.configure(enabled: settings.kernelTLS).logText)")
        }
        CertificateExpiryWatch.publish(snapshot)

        serve(
            snapshot: snapshot,
            arguments: arguments,
            privilegeDrop: privilegeDrop,
            metricsRegistry: metricsRegistry,
            logger: logger
        )
    }

    /// Under systemd with stderr connected to the journal, logs structured fields through
    /// sd_journal_sendv; otherwise one line per event on stderr (``StderrLogHandler``).
    private static func bootstrapLogging(level: LogLevelSetting) -> Logger {
        let logLevel = Logger.Level(rawValue: level.rawValue) ?? .info
        if Journal.stderrIsJournal {
            LoggingSystem.bootstrap { label in JournalLogHandler(label: label, logLevel: logLevel) }
        } else {
            LoggingSystem.bootstrap { _ in StderrLogHandler(logLevel: logLevel) }
        }
        return Logger(label: Program.name)
    }

    /// Loads every TLS file and the accounts file now: a missing or unreadable file, a key that does
    /// not match, or a policy syntax error stops startup with one line naming the option or
    /// file:line:column. Then resolves `user` and refuses a backend that would authenticate the
    /// proxy's own OS identity (``BackendIdentityCheck``).
    private static func loadAndCheck(
        _ settings: ProxySettings,
        warnings: [String],
        logger: Logger
    ) -> (ServerSnapshot, PrivilegeDrop?) {
        let snapshot: ServerSnapshot
        do {
            snapshot = try ServerSnapshot.load(settings: settings)
        } catch {
            fail("\(error)", status: ExitStatus.configurationError)
        }
        for warning in warnings + snapshot.warnings {
            logger.warning("\(warning)")
        }

        // An unknown `user` stops startup here, before anything is bound; the switch waits for the listeners.
        let privilegeDrop: PrivilegeDrop?
        do {
            let resolved = try settings.user.map { try PrivilegeDrop.resolve($0) }
            privilegeDrop = resolved?.drop
            if let note = resolved?.note { logger.warning("\(note)") }
        } catch {
            fail("\(error)", status: ExitStatus.configurationError)
        }

        // Never relay over a unix socket as root or as the backend's own user: the backend would
        // authenticate the proxy's OS identity for any client. The uid that counts is the one after `user`.
        let runAsUID = privilegeDrop?.uid ?? geteuid()
        if let refusal = BackendIdentityCheck.refusal(
            backend: settings.backend,
            uid: runAsUID,
            userOption: settings.user
        ) {
            fail(refusal, status: ExitStatus.configurationError)
        }
        if let warning = BackendIdentityCheck.ownerWarning(backend: settings.backend) {
            logger.warning("\(warning)")
        }
        if let warning = snapshot.keyPermissionWarning(service: .serving(after: privilegeDrop)) {
            logger.warning("\(warning)")
        }

        CertificateExpiryWatch.report(snapshot, logger: logger)
        return (snapshot, privilegeDrop)
    }
}
