import FoundationEssentials
import Logging
import Metrics
import NIOCore
import NIOPosix
import Prometheus
import ProxyConfiguration
import ProxyServer
import ProxyTLS
import ServiceLifecycle
import SystemdIntegration

let programName = "mariadb-tls-proxy"
let programVersion = "0.1.0"

// SIGHUP's default action would terminate the process before the reload service traps it.
signal(SIGHUP, SIG_IGN)

let arguments = Array(CommandLine.arguments.dropFirst())
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
    print("\(programName) \(programVersion) (\(OpenSSLVersion.text))")
    exit(0)
case .manPage:
    print(ProxyCommandLine.manPage(version: programVersion), terminator: "")
    exit(0)
case .run(let runSettings, let check):
    settings = runSettings
    checkOnly = check
}

let logLevel = Logger.Level(rawValue: settings.logLevel.rawValue) ?? .info
// Under systemd with stderr connected to the journal, log structured fields through sd_journal_sendv.
if Journal.stderrIsJournal {
    LoggingSystem.bootstrap { label in JournalLogHandler(label: label, logLevel: logLevel) }
} else {
    LoggingSystem.bootstrap { _ in StderrLogHandler(logLevel: logLevel) }
}
let logger = Logger(label: programName)
let metricsRegistry = PrometheusCollectorRegistry()
MetricsSystem.bootstrap(DescribedMetricsFactory(registry: metricsRegistry))
ProxyMetrics.recordBuildInfo(version: programVersion, openSSL: OpenSSLVersion.text)

// Load every TLS file and the accounts file now: a missing or unreadable file, a key that does not
// match, or a policy syntax error stops startup with one line naming the option or file:line:column.
let snapshot: ServerSnapshot
do {
    snapshot = try ServerSnapshot.load(settings: settings)
} catch {
    fail("\(error)", status: ExitStatus.configurationError)
}
for warning in parsed.warnings + snapshot.warnings {
    logger.warning("\(warning)")
}

// An unknown `user` stops startup here, before anything is bound; the switch waits for the listeners.
let privilegeDrop: PrivilegeDrop?
do {
    let resolved = try settings.user.map(PrivilegeDrop.resolve)
    privilegeDrop = resolved?.drop
    if let note = resolved?.note { logger.warning("\(note)") }
} catch {
    fail("\(error)", status: ExitStatus.configurationError)
}

// Never relay over a unix socket as root or as the backend's own user: the backend would
// authenticate the proxy's OS identity for any client. The uid that counts is the one after `user`.
let runAsUID = privilegeDrop?.uid ?? geteuid()
if let refusal = BackendIdentityCheck.refusal(backend: settings.backend, uid: runAsUID, userOption: settings.user) {
    fail(refusal, status: ExitStatus.configurationError)
}
if let warning = BackendIdentityCheck.ownerWarning(backend: settings.backend) {
    logger.warning("\(warning)")
}
if let warning = snapshot.keyPermissionWarning(service: .serving(after: privilegeDrop)) {
    logger.warning("\(warning)")
}

CertificateExpiryWatch.report(snapshot, logger: logger)

if checkOnly {
    print("\(programName): configuration OK")
    exit(0)
}

if let notice = BackendIdentityCheck.addressNotice(settings) {
    logger.notice("\(notice)")
}
if snapshot.tlsContext == nil {
    logger.warning("ssl is OFF: TLS is not offered to clients")
} else if snapshot.tlsContext?.certificateIsGenerated == true {
    logger.notice("no ssl_cert/ssl_key configured: serving a self-signed certificate generated in memory (CN=MariaDB Server); a new one at every reload")
}
CertificateExpiryWatch.publish(snapshot)

// Socket activation: listening sockets from systemd replace bind_address/port/socket.
var inherited: [InheritedListener] = []
for socket in SocketActivation.inheritedSockets() {
    switch socket.kind {
    case .tcp: inherited.append(InheritedListener(fileDescriptor: socket.fileDescriptor, isUnixSocket: false, name: socket.name))
    case .unix: inherited.append(InheritedListener(fileDescriptor: socket.fileDescriptor, isUnixSocket: true, name: socket.name))
    case .other: fail("inherited socket '\(socket.name)' (fd \(socket.fileDescriptor)) is not a listening TCP or unix stream socket", status: ExitStatus.configurationError)
    }
}
if !inherited.isEmpty {
    logger.notice("using sockets from the service manager", metadata: ["sockets": "\(inherited.map(\.name).joined(separator: ","))"])
}

let group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
let server = ProxyServer(
    snapshot: snapshot,
    group: group,
    logger: logger,
    inheritedListeners: inherited,
    onStopping: { SystemdNotifier.stopping(status: "stopping: waiting for open sessions") }
) { addresses in
    var metadata: Logger.Metadata = [
        "listen": "\(addresses.joined(separator: ", "))",
        "backend": "\(settings.backend)",
        "require_secure_transport": "\(settings.requireSecureTransport ? "ON" : "OFF")",
        "version": "\(programVersion)",
    ]
    if let tlsContext = snapshot.tlsContext {
        for (key, value) in tlsContext.certificate?.logFields ?? [] { metadata[key] = "\(value)" }
        metadata["tls_version"] = "\(settings.tls.versions.sorted().map(\.rawValue).joined(separator: ","))"
    }
    if let policy = snapshot.policy, let path = settings.accountsPath {
        metadata["accounts"] = "\(path) (\(policy.rows.count) rows)"
    }
    if let privilegeDrop {
        do {
            let note = try privilegeDrop.apply()
            logger.notice("\(note)")
        } catch {
            // Serving as root when told not to would be worse than not serving.
            fail("\(error)", status: ExitStatus.failure)
        }
    }
    logger.notice("ready for connections", metadata: metadata)
    SystemdNotifier.ready(status: "listening on \(addresses.joined(separator: ", "))\(ServiceStatus.certificateSummary(snapshot.tlsContext))")
}

let reloader = ReloadService(
    arguments: arguments,
    server: server,
    logger: logger,
    notifier: ReloadNotifier(
        onReloading: { SystemdNotifier.reloading() },
        onReloaded: { status in SystemdNotifier.readyAfterReload(status: status) }
    )
)
// Services stop in reverse order: the reloader first, then the server drains its sessions while
// the watchdog keeps pinging (it stops last).
var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
if SystemdNotifier.isEnabled {
    if WatchdogService.interval != nil {
        services.append(.init(service: WatchdogService(logger: logger)))
    }
    services.append(.init(service: ServiceStatus(server: server)))
}
services += [
    .init(service: server),
    .init(service: CertificateExpiryWatch(server: server, logger: logger)),
    .init(service: reloader),
]
let serviceGroup = ServiceGroup(
    configuration: .init(
        services: services,
        gracefulShutdownSignals: [.sigterm, .sigint],
        logger: logger
    )
)
// The main thread must stay an ordinary thread (see MainThread.swift): no `await` at top level.
MainThread.serve(
    serviceGroup,
    metrics: settings.metricsAddress.map { (address: $0, registry: metricsRegistry) },
    group: group,
    logger: logger
)
