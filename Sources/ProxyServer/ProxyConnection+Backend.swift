import AccessPolicy
import MariaDBWire
import NIOCore
import NIOPosix
import ProxyConfiguration

/// Connecting the backend: the bootstrap, the PROXY header, who the backend takes the client for.
extension ProxyConnection {
    func connectBackend() {
        let eventLoop = clientChannel.eventLoop
        let loopBound = NIOLoopBound(self, eventLoop: eventLoop)
        var bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(.seconds(Int64(environment.settings.connectTimeoutSeconds)))
            .channelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let handler = BackendChannelHandler(connection: loopBound.value)
                    loopBound.value.backendHandler = handler
                    try channel.pipeline.syncOperations.addHandler(handler)
                }
            }
        let connected: EventLoopFuture<Channel>
        switch environment.settings.backend {
        case .tcp(let host, let port):
            bootstrap = bootstrap.channelOption(ChannelOptions.tcpOption(.tcp_nodelay), value: 1)
            // An IP address needs no resolver and no Happy Eyeballs race (with the once-per-load
            // certificate chain, 2-4 % of a login's CPU: docs/benchmarks.md); a name is resolved
            // on every connect, so DNS changes are followed.
            if let address = try? SocketAddress(ipAddress: host, port: port) {
                connected = bootstrap.connect(to: address)
            } else {
                connected = bootstrap.connect(host: host, port: port)
            }
        case .unixSocket(let path):
            connected = bootstrap.connect(unixDomainSocketPath: path)
        }
        backendConnecting = true
        connected.whenComplete { result in
            let connection = loopBound.value
            connection.backendConnecting = false
            switch result {
            case .success(let channel):
                connection.backendConnected(channel)
            case .failure(let error):
                connection.backendConnectFailed(error)
            }
        }
    }

    private func backendConnected(_ channel: Channel) {
        backendChannel = channel
        // The close future, not channelInactive, marks the end: a channel closed from inside its own
        // connect callback may never deliver channelInactive to its handlers.
        let loopBound = NIOLoopBound(self, eventLoop: clientChannel.eventLoop)
        channel.closeFuture.whenComplete { _ in loopBound.value.backendChannelClosed() }
        if clientClosed || closing {
            channel.close(promise: nil)
            return
        }
        // backend_proxy_protocol: the header goes first, before the greeting is even read
        // (sql/net_serv.cc reads it with the first client packet); docs/security.md "What the backend sees".
        if let version = environment.settings.backendProxyProtocol.headerVersion {
            let header = ProxyProtocolHeader.encode(client: clientAddress, local: clientChannel.localAddress, version: version)
            channel.writeAndFlush(ByteBuffer(bytes: header), promise: nil)
            machine.backendConnected(seenAs: nil)
        } else {
            machine.backendConnected(seenAs: Self.backendView(of: channel, settings: environment.settings))
        }
    }

    /// Who the backend takes this connection for without a PROXY header: the proxy's own end of it,
    /// named as MariaDB names it. The backend is taken to resolve names as `skip_name_resolve` says
    /// (the option describes the MariaDB whose behaviour the proxy gives; docs/configuration.md).
    static func backendView(of channel: Channel, settings: ProxySettings) -> [ClientIdentity] {
        if case .unixSocket = settings.backend { return [.unixSocket()] }
        let ip = ClientAddress.normalizedIP(channel.localAddress) ?? ""
        let loopback = ip == "127.0.0.1" || ip == "::1"
        return [.tcp(ip: ip, resolvedHost: !settings.skipNameResolve && loopback ? "localhost" : nil)]
    }

    private func backendConnectFailed(_ error: Error) {
        backendClosed = true
        recordBackendReachability(false)
        let reason = "backend \(environment.settings.backend): \(BackendErrorDescription.describe(error, timeoutSeconds: environment.settings.connectTimeoutSeconds))"
        logger.warning("cannot reach the backend", metadata: ["backend": "\(environment.settings.backend)", "error": "\(reason)"])
        if clientClosed {
            finishIfDone()
            return
        }
        perform(machine.backendFailed(reason))
        finishIfDone()
    }
}
