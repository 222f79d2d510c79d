import AccessPolicy
import MariaDBWire
import NIOCore
import NIOPosix
import ProxyConfiguration

/// Connecting the backend: the backend's handler of the pair, the PROXY header, who the backend
/// takes the client for.
extension ProxyConnection {
    func connectBackend() {
        let eventLoop = clientChannel.eventLoop
        let loopBound = NIOLoopBound(self, eventLoop: eventLoop)
        backendConnector.connect(eventLoop, environment.settings) { channel in
            channel.eventLoop.makeCompletedFuture {
                guard let handler = loopBound.value.handlers?.backend else { throw ChannelError.ioOnClosedChannel }
                try channel.pipeline.syncOperations.addHandler(handler)
            }
        }.whenComplete { result in
            let connection = loopBound.value
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
        // The close future, not only channelInactive, marks the end: a channel closed from inside its
        // own connect callback may never deliver channelInactive to its handlers.
        let loopBound = NIOLoopBound(self, eventLoop: clientChannel.eventLoop)
        channel.closeFuture.whenComplete { _ in loopBound.value.channelClosed(.backend) }
        let sendsHeader = environment.settings.backendProxyProtocol.headerVersion != nil
        perform(
            machine.backendConnected(
                seenAs: sendsHeader ? nil : Self.backendView(of: channel, settings: environment.settings)
            )
        )
    }

    /// backend_proxy_protocol: the header goes first, before the greeting is even read
    /// (sql/net_serv.cc reads it with the first client packet); docs/security.md "What the backend sees".
    func sendProxyHeader() {
        guard let version = environment.settings.backendProxyProtocol.headerVersion else { return }
        let header = ProxyProtocolHeader.encode(
            client: clientAddress,
            local: clientChannel.localAddress,
            version: version
        )
        handlers?.backend.writeAndFlush(ByteBuffer(bytes: header))
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
        recordBackendReachability(false)
        let reason =
            "backend \(environment.settings.backend): \(BackendErrorDescription.describe(error, timeoutSeconds: environment.settings.connectTimeoutSeconds))"
        logger.warning(
            "cannot reach the backend",
            metadata: ["backend": "\(environment.settings.backend)", "error": "\(reason)"]
        )
        perform(machine.backendConnectFailed(reason: reason))
    }
}
