import NIOCore
import NIOPosix
import ProxyConfiguration

/// How a connection opens its backend channel: in the daemon a `ClientBootstrap` on the client's
/// event loop; unit tests hand in `EmbeddedChannel`s instead.
struct BackendConnector: Sendable {
    /// Connects to the settings' backend on `eventLoop`; `initialize` sets up the new channel's pipeline.
    let connect:
        @Sendable (
            _ eventLoop: EventLoop, _ settings: ProxySettings,
            _ initialize: @escaping @Sendable (Channel) -> EventLoopFuture<Void>
        ) -> EventLoopFuture<Channel>

    /// TCP_NODELAY, half-close allowed, `connect_timeout` for the connect itself.
    static let bootstrap = BackendConnector { eventLoop, settings, initialize in
        var bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(.seconds(Int64(settings.connectTimeoutSeconds)))
            .channelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
            .channelInitializer(initialize)
        switch settings.backend {
        case .tcp(let host, let port):
            bootstrap = bootstrap.channelOption(ChannelOptions.tcpOption(.tcp_nodelay), value: 1)
            // An IP address needs no resolver and no Happy Eyeballs race (with the once-per-load
            // certificate chain, 2-4 % of a login's CPU: docs/benchmarks.md); a name is resolved
            // on every connect, so DNS changes are followed.
            if let address = try? SocketAddress(ipAddress: host, port: port) {
                return bootstrap.connect(to: address)
            }
            return bootstrap.connect(host: host, port: port)
        case .unixSocket(let path):
            return bootstrap.connect(unixDomainSocketPath: path)
        }
    }
}
