import FoundationEssentials
import Logging
import NIOCore
import NIOPosix
import Prometheus
import ProxyConfiguration
import ProxyServer
import ServiceLifecycle
import SystemdIntegration

extension Daemon {
    /// Builds the server and its companion services and runs them until a graceful-shutdown signal.
    static func serve(
        snapshot: ServerSnapshot,
        arguments: [String],
        privilegeDrop: PrivilegeDrop?,
        metricsRegistry: PrometheusCollectorRegistry,
        logger: Logger
    ) -> Never {
        let settings = snapshot.settings
        let inherited = inheritedListeners(logger: logger)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
        let server = ProxyServer(
            snapshot: snapshot,
            group: group,
            logger: logger,
            inheritedListeners: inherited,
            onStopping: { SystemdNotifier.stopping(status: "stopping: waiting for open sessions") }
        ) { addresses in
            if let privilegeDrop {
                do {
                    let note = try privilegeDrop.apply()
                    logger.notice("\(note)")
                } catch {
                    // Serving as root when told not to would be worse than not serving.
                    fail("\(error)", status: ExitStatus.failure)
                }
            }
            logger.notice("ready for connections", metadata: readyMetadata(addresses: addresses, snapshot: snapshot))
            SystemdNotifier.ready(
                status:
                    "listening on \(addresses.joined(separator: ", "))\(ServiceStatus.certificateSummary(snapshot.tlsContext))"
            )
        }

        let counters = ReloadCounters()
        let reloader = ReloadService(
            arguments: arguments,
            server: server,
            logger: logger,
            counters: counters,
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
            services.append(.init(service: ServiceStatus(server: server, counters: counters)))
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
        // The main thread must stay an ordinary thread (see MainThread.swift): no `await` here.
        MainThread.serve(
            serviceGroup,
            metrics: settings.metricsAddress.map { (address: $0, registry: metricsRegistry) },
            group: group,
            logger: logger
        )
    }

    /// Socket activation: listening sockets from systemd replace bind_address/port/socket.
    private static func inheritedListeners(logger: Logger) -> [InheritedListener] {
        var inherited: [InheritedListener] = []
        for socket in SocketActivation.inheritedSockets() {
            switch socket.kind {
            case .tcp:
                inherited.append(
                    InheritedListener(fileDescriptor: socket.fileDescriptor, isUnixSocket: false, name: socket.name)
                )
            case .unix:
                inherited.append(
                    InheritedListener(fileDescriptor: socket.fileDescriptor, isUnixSocket: true, name: socket.name)
                )
            case .other:
                fail(
                    "inherited socket '\(socket.name)' (fd \(socket.fileDescriptor)) is not a listening TCP or unix stream socket",
                    status: ExitStatus.configurationError
                )
            }
        }
        if !inherited.isEmpty {
            logger.notice(
                "using sockets from the service manager",
                metadata: ["sockets": "\(inherited.map(\.name).joined(separator: ","))"]
            )
        }
        return inherited
    }

    /// The fields of the "ready for connections" line: where the proxy listens, what it relays to,
    /// and the certificate and accounts it serves with.
    package static func readyMetadata(addresses: [String], snapshot: ServerSnapshot) -> Logger.Metadata {
        let settings = snapshot.settings
        var metadata: Logger.Metadata = [
            "listen": "\(addresses.joined(separator: ", "))",
            "backend": "\(settings.backend)",
            "require_secure_transport": "\(settings.requireSecureTransport ? "ON" : "OFF")",
            "version": "\(Program.version)",
        ]
        if let tlsContext = snapshot.tlsContext {
            for (key, value) in tlsContext.certificate?.logFields ?? [] { metadata[key] = "\(value)" }
            metadata["tls_version"] = "\(settings.tls.versions.sorted().map(\.rawValue).joined(separator: ","))"
        }
        if let policy = snapshot.policy, let path = settings.accountsPath {
            metadata["accounts"] = "\(path) (\(policy.rows.count) rows)"
        }
        return metadata
    }
}
