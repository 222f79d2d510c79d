import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The PROXY protocol header (HAProxy's v1 text or v2 binary format) that tells the backend who the
/// real client is. MariaDB reads it when the connecting address is in its `proxy_protocol_networks`
/// (sql/proxy_protocol.cc `parse_proxy_protocol_header`) and then matches accounts against the
/// client's address instead of the proxy's (sql/sql_connect.cc `thd_set_peer_addr`).
///
/// Pure: it only encodes. The proxy writes it first on every backend connection, before the
/// backend's greeting has been read; MariaDB consumes it with the first client packet.
public enum ProxyProtocolHeader {
    /// The header format.
    public enum Version: Sendable, Equatable {
        /// `PROXY TCP4 src dst sport dport\r\n`; no unix family (sent as `PROXY UNKNOWN\r\n`).
        case v1
        /// The 16-byte binary header plus addresses, without TLVs (MariaDB mishandles long TLV blocks).
        case v2
    }

    /// Who connected to whom, as the header carries it.
    public enum Addresses: Sendable, Equatable {
        /// An IPv4 client (IPv4-mapped IPv6 addresses included); addresses are 4 bytes, network order.
        case tcp4(source: [UInt8], sourcePort: UInt16, destination: [UInt8], destinationPort: UInt16)
        /// An IPv6 client; addresses are 16 bytes, network order.
        case tcp6(source: [UInt8], sourcePort: UInt16, destination: [UInt8], destinationPort: UInt16)
        /// A client on the proxy's unix socket: its (usually empty) path and the socket's path.
        case unix(source: String, destination: String)
        /// Nothing usable is known: the backend keeps the connection's own (the proxy's) address.
        case unknown
    }

    /// The 12-byte signature that starts every v2 header.
    public static let v2Signature: [UInt8] = [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A]
    /// `sun_path`'s size on Linux; v2 carries two of them for AF_UNIX.
    static let unixPathLength = 108

    /// The header for a client connected from `client` to the proxy's `local` address.
    public static func encode(client: SocketAddress?, local: SocketAddress?, version: Version) -> [UInt8] {
        encode(addresses(client: client, local: local), version: version)
    }

    /// Classifies a client connection. IPv4-mapped IPv6 addresses become TCP4 (as MariaDB's
    /// `vio_get_normalized_ip` would see them); when the two sides differ in family, the
    /// destination is converted to the client's (0.0.0.0 when an IPv6 one has no IPv4 form).
    public static func addresses(client: SocketAddress?, local: SocketAddress?) -> Addresses {
        switch client {
        case .unixDomainSocket(let address)?:
            let destination: String
            if case .unixDomainSocket(let own)? = local { destination = Self.path(own) } else { destination = "" }
            return .unix(source: Self.path(address), destination: destination)
        case .v4, .v6:
            break
        default:
            return .unknown
        }
        guard let source = client.flatMap(IPEndpoint.init) else { return .unknown }
        let destination = local.flatMap(IPEndpoint.init) ?? IPEndpoint(bytes: [], port: 0)
        if let sourceV4 = source.ipv4Bytes {
            return .tcp4(
                source: sourceV4,
                sourcePort: source.port,
                destination: destination.ipv4Bytes ?? [0, 0, 0, 0],
                destinationPort: destination.port
            )
        }
        return .tcp6(
            source: source.bytes,
            sourcePort: source.port,
            destination: destination.ipv6Bytes,
            destinationPort: destination.port
        )
    }

    /// The exact bytes to write to the backend.
    public static func encode(_ addresses: Addresses, version: Version) -> [UInt8] {
        switch version {
        case .v1: return encodeV1(addresses)
        case .v2: return encodeV2(addresses)
        }
    }

    // MARK: - v1

    private static func encodeV1(_ addresses: Addresses) -> [UInt8] {
        let line: String
        switch addresses {
        case .tcp4(let source, let sourcePort, let destination, let destinationPort):
            line = "PROXY TCP4 \(text(source)) \(text(destination)) \(sourcePort) \(destinationPort)"
        case .tcp6(let source, let sourcePort, let destination, let destinationPort):
            line = "PROXY TCP6 \(text(source)) \(text(destination)) \(sourcePort) \(destinationPort)"
        case .unix, .unknown:
            // v1 has no unix family; UNKNOWN makes MariaDB keep the connection's own address.
            line = "PROXY UNKNOWN"
        }
        return Array((line + "\r\n").utf8)
    }

    // MARK: - v2

    private static func encodeV2(_ addresses: Addresses) -> [UInt8] {
        var command: UInt8 = 0x21  // version 2, PROXY
        let family: UInt8
        var body: [UInt8] = []
        switch addresses {
        case .tcp4(let source, let sourcePort, let destination, let destinationPort):
            family = 0x11
            body = source + destination + bigEndian(sourcePort) + bigEndian(destinationPort)
        case .tcp6(let source, let sourcePort, let destination, let destinationPort):
            family = 0x21
            body = source + destination + bigEndian(sourcePort) + bigEndian(destinationPort)
        case .unix(let source, let destination):
            family = 0x31
            body = paddedPath(source) + paddedPath(destination)
        case .unknown:
            command = 0x20  // version 2, LOCAL: the backend keeps the proxy's address
            family = 0x00
        }
        return v2Signature + [command, family] + bigEndian(UInt16(body.count)) + body
    }

    private static func paddedPath(_ path: String) -> [UInt8] {
        let bytes = Array(path.utf8.prefix(unixPathLength - 1))
        return bytes + [UInt8](repeating: 0, count: unixPathLength - bytes.count)
    }

    private static func bigEndian(_ value: UInt16) -> [UInt8] {
        [UInt8(value >> 8), UInt8(value & 0xFF)]
    }

    // MARK: - Addresses

    private static func path(_ address: SocketAddress.UnixSocketAddress) -> String {
        SocketAddress.unixDomainSocket(address).pathname ?? ""
    }

    /// Dotted quad or RFC 5952 text of 4 or 16 network-order bytes (inet_ntop).
    private static func text(_ bytes: [UInt8]) -> String {
        let family = bytes.count == 4 ? AF_INET : AF_INET6
        var output = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let ok = bytes.withUnsafeBytes { raw in
            inet_ntop(family, raw.baseAddress, &output, socklen_t(output.count)) != nil
        }
        guard ok else { return bytes.count == 4 ? "0.0.0.0" : "::" }
        return String(decoding: output.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// An IP address (4 or 16 bytes, network order) and a port.
private struct IPEndpoint {
    var bytes: [UInt8]
    var port: UInt16

    init(bytes: [UInt8], port: UInt16) {
        self.bytes = bytes
        self.port = port
    }

    init?(_ address: SocketAddress) {
        switch address {
        case .v4(let v4):
            var raw = v4.address.sin_addr
            bytes = withUnsafeBytes(of: &raw) { Array($0) }
        case .v6(let v6):
            var raw = v6.address.sin6_addr
            bytes = withUnsafeBytes(of: &raw) { Array($0) }
        default:
            return nil
        }
        port = UInt16(clamping: address.port ?? 0)
    }

    private static let mappedPrefix: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF]

    /// The IPv4 address, for IPv4 and IPv4-mapped IPv6 (`::ffff:a.b.c.d`) addresses.
    var ipv4Bytes: [UInt8]? {
        if bytes.count == 4 { return bytes }
        if bytes.count == 16, Array(bytes.prefix(12)) == Self.mappedPrefix { return Array(bytes.suffix(4)) }
        return nil
    }

    /// The IPv6 form: IPv4 becomes IPv4-mapped; unknown becomes `::`.
    var ipv6Bytes: [UInt8] {
        switch bytes.count {
        case 16: return bytes
        case 4: return Self.mappedPrefix + bytes
        default: return [UInt8](repeating: 0, count: 16)
        }
    }
}
