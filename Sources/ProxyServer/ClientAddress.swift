import AccessPolicy
import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// The client's address as MariaDB sees it for host matching (`thd_set_peer_addr`, `ip_to_hostname`).
enum ClientAddress {
    /// The textual IP MariaDB matches against: IPv4-mapped and IPv4-compatible IPv6 become plain
    /// IPv4 (`vio_get_normalized_ip`); other IPv6 stays in its compressed lower-case form.
    static func normalizedIP(_ address: SocketAddress?) -> String? {
        guard let ip = address?.ipAddress?.lowercased() else { return nil }
        for prefix in ["::ffff:", "::"] where ip.hasPrefix(prefix) {
            let rest = String(ip.dropFirst(prefix.count))
            if isDottedQuad(rest) { return rest }
        }
        return ip
    }

    /// The client as log lines name it: `192.0.2.7:50942`, `[2001:db8::1]:50942`, or `localhost`
    /// for the unix socket (as MariaDB names socket clients). The IP is the one host matching uses
    /// (``normalizedIP(_:)``), so an IPv4 client of a dual-stack listener reads `192.0.2.7:50942`,
    /// not `[::ffff:192.0.2.7]:50942`.
    static func logText(_ address: SocketAddress?, transport: ClientTransport) -> String {
        if transport == .unixSocket { return "localhost" }
        guard let address, let ip = normalizedIP(address) else { return "unknown" }
        let port = address.port ?? 0
        return ip.contains(":") ? "[\(ip)]:\(port)" : "\(ip):\(port)"
    }

    /// The two lookups `ip_to_hostname()` makes, injectable so the rules can be tested without DNS.
    struct Resolver: Sendable {
        /// Reverse lookup (`getnameinfo` with `NI_NAMEREQD`): the name for an IP, or nil.
        var reverse: @Sendable (_ ip: String) -> String?
        /// Forward lookup (`getaddrinfo`): the addresses of a name, as normalised IP text.
        var forward: @Sendable (_ name: String) -> [String]

        /// The system resolver (blocking).
        static let system = Resolver(reverse: ClientAddress.reverseLookup, forward: ClientAddress.forwardLookup)
    }

    /// MariaDB's `ip_to_hostname()` (sql/hostname.cc): loopback is `localhost` without DNS;
    /// otherwise the reverse lookup's answer is used only if it passes `is_hostname_valid()` (it
    /// does not start with digits followed by a dot, so `10.0.0.evil.example` cannot match a
    /// `'app'@'10.0.0.%'` row) and the forward lookup of that name contains the client's IP
    /// (forward-confirmed reverse DNS). On any failure the host stays unknown (nil) and only the
    /// IP is matched. Blocking with the system resolver: call it off the event loop.
    static func resolveHostName(ip: String, resolver: Resolver = .system) -> String? {
        if ip == "127.0.0.1" || ip == "::1" { return "localhost" }
        guard let name = resolver.reverse(ip), isValidHostName(name) else { return nil }
        // strcasecmp in ip_to_hostname: IPv6 text may differ in case.
        guard resolver.forward(name).contains(where: { $0.lowercased() == ip.lowercased() }) else { return nil }
        return String(name.prefix(255))
    }

    /// MariaDB's `is_hostname_valid()` (sql/hostname.cc): a name is refused when it starts with
    /// one or more ASCII digits followed by a dot, i.e. when it resembles an IPv4 address
    /// (`1.2.3.4`, `192.168.1.example.org`, `123.example.org`). `1abc.example` or `12:ab::1` pass
    /// this check (the forward confirmation still applies).
    static func isValidHostName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard let first = bytes.first, isASCIIDigit(first) else { return true }
        let afterDigits = bytes.dropFirst().firstIndex { !isASCIIDigit($0) }
        guard let index = afterDigits else { return true }
        return bytes[index] != UInt8(ascii: ".")
    }

    private static func isASCIIDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    /// The identity for the access policy, given the transport and (optionally) a resolved name.
    static func identity(transport: ClientTransport, address: SocketAddress?, resolvedHost: String?) -> ClientIdentity {
        if transport == .unixSocket { return .unixSocket() }
        return .tcp(ip: normalizedIP(address) ?? "", resolvedHost: resolvedHost)
    }

    static func isDottedQuad(_ text: String) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4
            && parts.allSatisfy { part in
                !part.isEmpty && part.count <= 3 && part.allSatisfy(\.isASCII) && part.allSatisfy(\.isNumber)
                    && (Int(part) ?? 256) <= 255
            }
    }

    @Sendable private static func reverseLookup(_ ip: String) -> String? {
        guard let address = try? SocketAddress(ipAddress: ip, port: 0) else { return nil }
        var host = [CChar](repeating: 0, count: Int(NI_MAXHOST))
        let rc = address.withSockAddr { pointer, length in
            getnameinfo(pointer, socklen_t(length), &host, socklen_t(host.count), nil, 0, NI_NAMEREQD)
        }
        guard rc == 0 else { return nil }
        return String(decoding: host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    @Sendable private static func forwardLookup(_ name: String) -> [String] {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(name, nil, &hints, &result) == 0, let first = result else { return [] }
        defer { freeaddrinfo(first) }
        var addresses: [String] = []
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let entry = cursor {
            if let sockaddr = entry.pointee.ai_addr,
                let address = try? SocketAddress(sockaddr, length: Int(entry.pointee.ai_addrlen))
            {
                if let ip = normalizedIP(address) { addresses.append(ip) }
            }
            cursor = entry.pointee.ai_next
        }
        return addresses
    }
}

extension SocketAddress {
    /// Builds a SocketAddress from a raw `sockaddr` (IPv4 or IPv6 only).
    fileprivate init(_ pointer: UnsafeMutablePointer<sockaddr>, length: Int) throws {
        switch Int32(pointer.pointee.sa_family) {
        case AF_INET:
            let value = UnsafeRawPointer(pointer).load(as: sockaddr_in.self)
            self = SocketAddress(value, host: "")
        case AF_INET6:
            let value = UnsafeRawPointer(pointer).load(as: sockaddr_in6.self)
            self = SocketAddress(value, host: "")
        default:
            throw SocketAddressError.unsupported
        }
    }
}
