import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import Prometheus

/// A tiny HTTP listener serving the Prometheus registry at `GET /metrics` (`metrics_address`).
/// Everything else gets 404. Kept off the proxy's data path: its own channel, no TLS.
///
/// Bounded so it cannot hold descriptors or memory for long: at most ``maximumConnections`` are open
/// (a new one closes the oldest, so a scrape still gets through while others hang), each serves one
/// request and lives at most ``requestTimeout``, and the listener backs off when accept runs out of
/// descriptors, like the proxy's own.
public enum MetricsEndpoint {
    /// Connections open at once; the oldest is closed to make room for a new one.
    static let maximumConnections = 16
    /// A scrape request is a few hundred bytes; a connection that sends more is closed (a header
    /// that never ends would otherwise be parsed at full speed until the time limit).
    static let maximumRequestBytes = 16 * 1024
    /// The longest a connection lives: time to send one whole request and read the answer.
    static let requestTimeout = TimeAmount.seconds(5)

    public static func bind(
        address: String,
        registry: PrometheusCollectorRegistry,
        group: EventLoopGroup,
        logger: Logger = Logger(label: "mariadb-tls-proxy.metrics")
    ) async throws -> Channel {
        let (host, port) = try parse(address)
        let connections = MetricsConnections(limit: maximumConnections)
        return try await ServerBootstrap(group: group)
            .serverChannelInitializer { channel in
                ProxyServer.addAcceptBackoff(to: channel, logger: logger, listener: "metrics \(address)")
            }
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    connections.add(channel)
                    try channel.pipeline.syncOperations.addHandler(InboundByteLimitHandler(limit: maximumRequestBytes))
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(
                        MetricsHTTPHandler(registry: registry, timeout: requestTimeout)
                    )
                }
            }
            .bind(host: host, port: port)
            .get()
    }

    /// `host:port` or `[v6]:port`.
    static func parse(_ address: String) throws -> (String, Int) {
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]),
            (0...65535).contains(port)
        else { throw MetricsAddressError(address: address) }
        var host = String(address[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host.isEmpty ? "127.0.0.1" : host, port)
    }
}

struct MetricsAddressError: Error, CustomStringConvertible {
    let address: String
    var description: String { "option 'metrics_address': expected HOST:PORT, got '\(address)'" }
}

/// The metrics listener's open connections, oldest first; beyond the limit the oldest is closed.
private final class MetricsConnections: Sendable {
    private let limit: Int
    private let open = NIOLockedValueBox<[ObjectIdentifier: (order: UInt64, channel: Channel)]>([:])
    private let counter = NIOLockedValueBox<UInt64>(0)

    init(limit: Int) {
        self.limit = limit
    }

    func add(_ channel: Channel) {
        let order = counter.withLockedValue { value in
            value += 1
            return value
        }
        let key = ObjectIdentifier(channel)
        let evicted: Channel? = open.withLockedValue { open in
            open[key] = (order, channel)
            guard open.count > limit, let oldest = open.min(by: { $0.value.order < $1.value.order }) else { return nil }
            open[oldest.key] = nil
            return oldest.value.channel
        }
        evicted?.close(promise: nil)
        channel.closeFuture.whenComplete { [open] _ in
            open.withLockedValue { open in
                if open[key]?.order == order { open[key] = nil }
            }
        }
    }
}

/// Closes a connection once it has sent more than `limit` bytes.
private final class InboundByteLimitHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let limit: Int
    private var received = 0

    init(limit: Int) {
        self.limit = limit
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        received += unwrapInboundIn(data).readableBytes
        guard received <= limit else {
            context.close(promise: nil)
            return
        }
        context.fireChannelRead(data)
    }
}

/// One request per connection: the answer says `Connection: close` and the connection ends once it
/// is written, so a client that pipelines requests and never reads cannot make the proxy queue
/// answers; anything sent after the first request is ignored. A connection lives at most `timeout`
/// in all, answered or not (a client that does not read its answer cannot keep it open either).
private final class MetricsHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let registry: PrometheusCollectorRegistry
    private let timeout: TimeAmount
    private var isMetricsRequest = false
    private var answered = false
    private var deadline: Scheduled<Void>?

    init(registry: PrometheusCollectorRegistry, timeout: TimeAmount) {
        self.registry = registry
        self.timeout = timeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        deadline = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) {
            context.close(promise: nil)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !answered else { return }
        switch unwrapInboundIn(data) {
        case .head(let head):
            isMetricsRequest = head.method == .GET && (head.uri == "/metrics" || head.uri.hasPrefix("/metrics?"))
        case .body:
            break
        case .end:
            answered = true
            var body = context.channel.allocator.buffer(capacity: 1024)
            var headers = HTTPHeaders()
            let status: HTTPResponseStatus
            if isMetricsRequest {
                body.writeBytes(registry.emitToBuffer())
                headers.add(name: "Content-Type", value: "text/plain; version=0.0.4; charset=utf-8")
                status = .ok
            } else {
                body.writeString("not found: use /metrics\n")
                status = .notFound
            }
            headers.add(name: "Content-Length", value: "\(body.readableBytes)")
            headers.add(name: "Connection", value: "close")
            context.write(
                wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))),
                promise: nil
            )
            context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
                channel.close(promise: nil)
            }
        }
    }
}
