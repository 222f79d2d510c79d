import AccessPolicy
import FoundationEssentials
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import ProxyConfiguration
import ProxyTLS
import ServiceLifecycle
import Synchronization

/// The listeners (TCP addresses and the unix socket) and the connections they accept.
///
/// As a `Service` it binds, logs that it is ready, serves until graceful shutdown (SIGTERM/SIGINT),
/// then stops accepting, lets sessions finish for up to `shutdown_timeout`, and closes the rest.
public final class ProxyServer: Service, Sendable {
    private let group: EventLoopGroup
    private let logger: Logger
    /// What new connections use. Each connection keeps the settings and TLS context it was accepted
    /// with; account checks read the accounts from here when they run.
    private let snapshot: NIOLockedValueBox<ServerSnapshot>
    private let limiter: ConnectionLimiter
    private let handshakeGate: HandshakeGate
    private let registry = ConnectionRegistry()
    private let nextConnectionID = Atomic<UInt64>(0)
    private let onReady: @Sendable ([String]) -> Void
    private let onStopping: @Sendable () -> Void
    private let inheritedListeners: [InheritedListener]
    /// Reverse DNS of client addresses (skip_name_resolve=OFF) blocks, so it runs here, off the
    /// event loops. Owned and shut down by the server, unlike NIO's process-wide singleton pool,
    /// whose threads outlive everything and show up as leaks under LeakSanitizer.
    /// MariaDB resolves each client on its own thread; here lookups share this pool, so it is wide
    /// enough that a few clients whose reverse DNS hangs do not hold up everyone's greeting.
    private let nameResolverPool = NIOThreadPool(numberOfThreads: 16)

    /// - Parameters:
    ///   - inheritedListeners: listening sockets handed over by the service manager (socket
    ///     activation); when given, they replace `bind_address`/`port`/`socket`.
    ///   - onReady: called with the listen addresses once every listener is bound.
    public init(
        snapshot: ServerSnapshot,
        group: EventLoopGroup,
        logger: Logger,
        inheritedListeners: [InheritedListener] = [],
        onStopping: @escaping @Sendable () -> Void = {},
        onReady: @escaping @Sendable ([String]) -> Void = { _ in }
    ) {
        self.onStopping = onStopping
        self.inheritedListeners = inheritedListeners
        self.group = group
        self.logger = logger
        self.snapshot = NIOLockedValueBox(snapshot)
        self.limiter = ConnectionLimiter(limit: snapshot.settings.maxConnections)
        self.handshakeGate = HandshakeGate(limit: snapshot.settings.maxHandshakes)
        self.onReady = onReady
        ProxyMetrics.recordLimits(snapshot.settings)
    }

    public func run() async throws {
        nameResolverPool.start()
        do {
            try await serve()
        } catch {
            try? await nameResolverPool.shutdownGracefully()
            throw error
        }
        try? await nameResolverPool.shutdownGracefully()
    }

    private func serve() async throws {
        let settings = currentSnapshot.settings
        var listeners: [Channel] = []
        do {
            if !inheritedListeners.isEmpty {
                for inherited in inheritedListeners {
                    listeners.append(try await adopt(inherited))
                }
            } else {
                for address in settings.bindAddresses {
                    listeners.append(try await bindTCP(host: address, port: settings.port))
                }
                if let path = settings.socketPath {
                    listeners.append(try await bindUnix(path: path))
                }
            }
        } catch {
            for listener in listeners { try? await listener.close() }
            throw error
        }
        let addresses = listeners.map { Self.describeListener($0, socketPath: settings.socketPath) }
        let unlinkSocket = inheritedListeners.isEmpty ? settings.socketPath : nil
        onReady(addresses)

        let boundListeners = listeners
        await withGracefulShutdownHandler {
            for listener in boundListeners {
                try? await listener.closeFuture.get()
            }
        } onGracefulShutdown: { [onStopping] in
            onStopping()
            for listener in boundListeners { listener.close(promise: nil) }
        }
        // A socket the service manager created is its to remove.
        if let path = unlinkSocket { unlink(path) }
        await drainConnections(timeoutSeconds: currentSnapshot.settings.shutdownTimeoutSeconds)
    }

    /// Number of client connections open now.
    public var openConnections: Int { registry.count }

    /// The snapshot new connections get now.
    public var currentSnapshot: ServerSnapshot { snapshot.withLockedValue { $0 } }

    /// Swaps in a reloaded snapshot for new connections; open sessions keep theirs. Settings that
    /// cannot change while running (listen addresses, port, socket path) keep their current values;
    /// the returned notes name each one that differed ("needs a restart").
    public func install(_ reloaded: ServerSnapshot) -> [String] {
        snapshot.withLockedValue { current in
            var settings = reloaded.settings
            var notes: [String] = []
            if settings.bindAddresses != current.settings.bindAddresses {
                notes.append(
                    "bind_address changed to \(settings.bindAddresses.joined(separator: ",")): needs a restart"
                )
                settings.bindAddresses = current.settings.bindAddresses
            }
            if settings.port != current.settings.port {
                notes.append("port changed to \(settings.port): needs a restart")
                settings.port = current.settings.port
            }
            if settings.socketPath != current.settings.socketPath {
                notes.append("socket changed to \(settings.socketPath ?? "(none)"): needs a restart")
                settings.socketPath = current.settings.socketPath
            }
            if settings.metricsAddress != current.settings.metricsAddress {
                notes.append("metrics_address changed to \(settings.metricsAddress ?? "(none)"): needs a restart")
                settings.metricsAddress = current.settings.metricsAddress
            }
            if settings.user != current.settings.user {
                notes.append("user changed to \(settings.user ?? "(none)"): needs a restart")
                settings.user = current.settings.user
            }
            if settings.logLevel != current.settings.logLevel {
                notes.append("log_level changed to \(settings.logLevel.rawValue): needs a restart")
                settings.logLevel = current.settings.logLevel
            }
            limiter.limit = settings.maxConnections
            handshakeGate.setLimit(settings.maxHandshakes)
            ProxyMetrics.recordLimits(settings)
            current = ServerSnapshot(
                settings: settings,
                tlsContext: reloaded.tlsContext,
                policy: reloaded.policy,
                backendTLSContext: reloaded.backendTLSContext
            )
            return notes
        }
    }

    // MARK: - Listeners

    private func bindTCP(host: String, port: Int) async throws -> Channel {
        try await tcpBootstrap(listener: "\(host):\(port)").bind(host: host, port: port).get()
    }

    /// Every listener backs off when accept fails for lack of descriptors (logged once per episode)
    /// instead of retrying in a tight loop; see `AcceptExhaustionHandler`.
    static func addAcceptBackoff(to channel: Channel, logger: Logger, listener: String) -> EventLoopFuture<Void> {
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandlers([
                AcceptExhaustionHandler(logger: logger, listener: listener),
                AcceptBackoffHandler(
                    shouldForwardIOErrorCaught: false,
                    backoffProvider: { _ in AcceptExhaustionHandler.pause }
                ),
            ])
        }
    }

    private func tcpBootstrap(listener: String) -> ServerBootstrap {
        ServerBootstrap(group: group)
            .serverChannelInitializer { [logger] channel in
                Self.addAcceptBackoff(to: channel, logger: logger, listener: listener)
            }
            .serverChannelOption(ChannelOptions.backlog, value: 1024)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.tcpOption(.tcp_nodelay), value: 1)
            .childChannelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
            .childChannelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture { try self.accept(channel, transport: .tcp) }
            }
    }

    private func unixBootstrap(listener: String) -> ServerBootstrap {
        ServerBootstrap(group: group)
            .serverChannelInitializer { [logger] channel in
                Self.addAcceptBackoff(to: channel, logger: logger, listener: listener)
            }
            .serverChannelOption(ChannelOptions.backlog, value: 1024)
            .childChannelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
            .childChannelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture { try self.accept(channel, transport: .unixSocket) }
            }
    }

    /// A listening socket from the service manager: NIO takes ownership of the descriptor.
    private func adopt(_ inherited: InheritedListener) async throws -> Channel {
        let listener = "inherited \(inherited.name)"
        let bootstrap = inherited.isUnixSocket ? unixBootstrap(listener: listener) : tcpBootstrap(listener: listener)
        return try await bootstrap.withBoundSocket(inherited.fileDescriptor).get()
    }

    private func bindUnix(path: String) async throws -> Channel {
        let channel = try await unixBootstrap(listener: path)
            .bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true)
            .get()
        // Like mariadbd's socket: any local user may connect; the login decides the rest.
        chmod(path, 0o777)
        return channel
    }

    private static func describeListener(_ channel: Channel, socketPath: String?) -> String {
        guard let address = channel.localAddress else { return "?" }
        if address.protocol == .unix { return address.pathname ?? socketPath ?? "unix socket" }
        let ip = address.ipAddress ?? "?"
        return address.protocol == .inet6 ? "[\(ip)]:\(address.port ?? 0)" : "\(ip):\(address.port ?? 0)"
    }

    // MARK: - Accepting

    /// Runs on the new channel's event loop, before it is active.
    private func accept(_ channel: Channel, transport: ClientTransport) throws {
        guard limiter.acquire() else {
            let logConnections = currentSnapshot.settings.logConnections
            try channel.pipeline.syncOperations.addHandler(
                TooManyConnectionsHandler(logger: logger, transport: transport, logConnections: logConnections)
            )
            return
        }
        registry.add(channel)
        ProxyMetrics.openConnections.record(registry.count)
        channel.closeFuture.whenComplete { [limiter, registry] _ in
            limiter.release()
            registry.remove(channel)
            ProxyMetrics.openConnections.record(registry.count)
        }
        let current = currentSnapshot
        let environment = ConnectionEnvironment(
            id: nextConnectionID.wrappingAdd(1, ordering: .relaxed).newValue,
            transport: transport,
            settings: current.settings,
            tlsContext: current.tlsContext,
            backendTLSContext: current.backendTLSContext,
            currentRules: { [snapshot] in
                snapshot.withLockedValue {
                    .init(
                        policy: $0.policy,
                        strictAccounts: $0.settings.strictAccounts,
                        auditOnly: $0.settings.policyMode == .audit
                    )
                }
            },
            handshakeGate: handshakeGate,
            nameResolverPool: nameResolverPool,
            logger: logger
        )
        try ProxyConnection(clientChannel: channel, environment: environment).install()
    }

    // MARK: - Shutdown

    private func drainConnections(timeoutSeconds: Int) async {
        let open = registry.count
        guard open > 0 else { return }
        logger.notice(
            "waiting for sessions to finish",
            metadata: ["open": "\(open)", "shutdown_timeout": "\(timeoutSeconds)s"]
        )
        // After the grace period, close what is left; closing completes the wait below.
        let deadline = Task { [registry, logger] in
            try await Task.sleep(for: .seconds(timeoutSeconds))
            logger.notice("closing sessions still open after shutdown_timeout", metadata: ["open": "\(registry.count)"])
            registry.closeAll()
        }
        await registry.waitUntilEmpty()
        deadline.cancel()
    }
}

/// A listening socket inherited from the service manager (systemd socket activation).
public struct InheritedListener: Sendable, Equatable {
    public var fileDescriptor: Int32
    public var isUnixSocket: Bool
    public var name: String

    public init(fileDescriptor: Int32, isUnixSocket: Bool, name: String) {
        self.fileDescriptor = fileDescriptor
        self.isUnixSocket = isUnixSocket
        self.name = name
    }
}
