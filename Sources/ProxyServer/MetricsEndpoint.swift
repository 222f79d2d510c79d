import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Prometheus

/// A tiny HTTP listener serving the Prometheus registry at `GET /metrics` (`metrics_address`).
/// Everything else gets 404. Kept off the proxy's data path: its own channel, no TLS.
public enum MetricsEndpoint {
    public static func bind(address: String, registry: PrometheusCollectorRegistry, group: EventLoopGroup) async throws -> Channel {
        let (host, port) = try parse(address)
        return try await ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(MetricsHTTPHandler(registry: registry))
                }
            }
            .bind(host: host, port: port)
            .get()
    }

    /// `host:port` or `[v6]:port`.
    static func parse(_ address: String) throws -> (String, Int) {
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]), (0...65535).contains(port)
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

private final class MetricsHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let registry: PrometheusCollectorRegistry
    private var isMetricsRequest = false
    private var keepAlive = false

    init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            isMetricsRequest = head.method == .GET && (head.uri == "/metrics" || head.uri.hasPrefix("/metrics?"))
            keepAlive = head.isKeepAlive
        case .body:
            break
        case .end:
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
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
            let keepAlive = self.keepAlive
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
                if !keepAlive { channel.close(promise: nil) }
            }
        }
    }
}
