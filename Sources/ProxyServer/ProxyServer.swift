import AccessPolicy
import Foundation
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
    /// What new connections use. Each connection keeps the snapshot it was accepted with.
    struct Snapshot: Sendable {
        var settings: ProxySettings
        var tlsContext: TLSServerContext?
        var policy: AccessPolicy?
    }

    private let group: EventLoopGroup
    private let logger: Logger
    private let snapshot: NIOLockedValueBox<Snapshot>
    private let limiter: ConnectionLimiter
    private let registry = ConnectionRegistry()
    private let nextConnectionID = Atomic<UInt64>(0)
    private let onReady: @Sendable ([String]) -> Void

    /// - Parameter onReady: called with the listen addresses once every listener is bound.
    public init(
        settings: ProxySettings,
        tlsContext: TLSServerContext?,
        policy: AccessPolicy? = nil,
        group: EventLoopGroup,
        logger: Logger,
        onReady: @escaping @Sendable ([String]) -> Void = { _ in }
    ) {
        self.group = group
        self.logger = logger
        self.snapshot = NIOLockedValueBox(Snapshot(settings: settings, tlsContext: tlsContext, policy: policy))
        self.limiter = ConnectionLimiter(limit: settings.maxConnections)
        self.onReady = onReady
    }

    public func run() async throws {
        let settings = snapshot.withLockedValue { $0.settings }
        var listeners: [Channel] = []
        do {
            if settings.port != 0 || !settings.bindAddresses.isEmpty {
                for address in settings.bindAddresses {
                    listeners.append(try await bindTCP(host: address, port: settings.port))
                }
            }
            if let path = settings.socketPath {
                listeners.append(try await bindUnix(path: path))
            }
        } catch {
            for listener in listeners { try? await listener.close() }
            throw error
        }
        let addresses = listeners.map { Self.describeListener($0, socketPath: settings.socketPath) }
        onReady(addresses)

        let boundListeners = listeners
        await withGracefulShutdownHandler {
            for listener in boundListeners {
                try? await listener.closeFuture.get()
            }
        } onGracefulShutdown: {
            for listener in boundListeners { listener.close(promise: nil) }
        }
        if let path = settings.socketPath { unlink(path) }
        await drainConnections(timeoutSeconds: settings.shutdownTimeoutSeconds)
    }

    /// Number of client connections open now.
    public var openConnections: Int { registry.count }

    // MARK: - Listeners

    private func bindTCP(host: String, port: Int) async throws -> Channel {
        try await ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: 1024)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.tcpOption(.tcp_nodelay), value: 1)
            .childChannelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
            .childChannelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture { try self.accept(channel, transport: .tcp) }
            }
            .bind(host: host, port: port)
            .get()
    }

    private func bindUnix(path: String) async throws -> Channel {
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: 1024)
            .childChannelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
            .childChannelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture { try self.accept(channel, transport: .unixSocket) }
            }
            .bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true)
            .get()
        // Like mariadbd's socket: any local user may connect; the login decides the rest.
        chmod(path, 0o777)
        return channel
    }

    private static func describeListener(_ channel: Channel, socketPath: String?) -> String {
        guard let address = channel.localAddress else { return "?" }
        if address.protocol == .unix { return socketPath ?? "unix socket" }
        let ip = address.ipAddress ?? "?"
        return address.protocol == .inet6 ? "[\(ip)]:\(address.port ?? 0)" : "\(ip):\(address.port ?? 0)"
    }

    // MARK: - Accepting

    /// Runs on the new channel's event loop, before it is active.
    private func accept(_ channel: Channel, transport: ClientTransport) throws {
        guard limiter.acquire() else {
            try channel.pipeline.syncOperations.addHandler(TooManyConnectionsHandler(logger: logger, transport: transport))
            return
        }
        registry.add(channel)
        channel.closeFuture.whenComplete { [limiter, registry] _ in
            limiter.release()
            registry.remove(channel)
        }
        let current = snapshot.withLockedValue { $0 }
        let environment = ConnectionEnvironment(
            id: nextConnectionID.wrappingAdd(1, ordering: .relaxed).newValue,
            transport: transport,
            settings: current.settings,
            tlsContext: current.tlsContext,
            policy: current.policy,
            logger: logger
        )
        try ProxyConnection(clientChannel: channel, environment: environment).install()
    }

    // MARK: - Shutdown

    private func drainConnections(timeoutSeconds: Int) async {
        let open = registry.count
        guard open > 0 else { return }
        logger.notice("waiting for sessions to finish", metadata: ["open": "\(open)", "shutdown_timeout": "\(timeoutSeconds)s"])
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
