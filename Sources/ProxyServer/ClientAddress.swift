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

    /// MariaDB's `ip_to_hostname()`: loopback is `localhost` without DNS; otherwise a reverse lookup
    /// whose answer must not look like an IPv4 address and must resolve forward to the same IP.
    /// Blocking: call it off the event loop.
    static func resolveHostName(ip: String) -> String? {
        if ip == "127.0.0.1" || ip == "::1" { return "localhost" }
        guard let name = reverseLookup(ip), !isDottedQuad(name), forwardLookup(name).contains(ip) else { return nil }
        return String(name.prefix(255))
    }

    /// The identity for the access policy, given the transport and (optionally) a resolved name.
    static func identity(transport: ClientTransport, address: SocketAddress?, resolvedHost: String?) -> ClientIdentity {
        if transport == .unixSocket { return .unixSocket() }
        return .tcp(ip: normalizedIP(address) ?? "", resolvedHost: resolvedHost)
    }

    static func isDottedQuad(_ text: String) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { part in
            !part.isEmpty && part.count <= 3 && part.allSatisfy(\.isASCII) && part.allSatisfy(\.isNumber) && (Int(part) ?? 256) <= 255
        }
    }

    private static func reverseLookup(_ ip: String) -> String? {
        guard let address = try? SocketAddress(ipAddress: ip, port: 0) else { return nil }
        var host = [CChar](repeating: 0, count: Int(NI_MAXHOST))
        let rc = address.withSockAddr { pointer, length in
            getnameinfo(pointer, socklen_t(length), &host, socklen_t(host.count), nil, 0, NI_NAMEREQD)
        }
        guard rc == 0 else { return nil }
        return String(decoding: host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private static func forwardLookup(_ name: String) -> [String] {
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
