/// Who the client is, as MariaDB's `Security_context` sees it: a host name (`sctx->host`) and a
/// textual IP (`sctx->ip`). Account host patterns are matched against both.
public struct ClientIdentity: Sendable, Equatable {
    /// The host name: `localhost` for the unix socket (and, with name resolution on, for TCP from
    /// exactly `127.0.0.1` or `::1`), a forward-confirmed reverse-DNS name, or nil.
    public var host: String?
    /// The peer IP as text, nil for the unix socket.
    public var ip: String?

    public init(host: String?, ip: String?) {
        self.host = host
        self.ip = ip
    }

    /// A unix-socket client: host `localhost`, no IP.
    public static func unixSocket() -> ClientIdentity {
        ClientIdentity(host: "localhost", ip: nil)
    }

    /// A TCP client. `ip` is normalised like `vio_get_normalized_ip()`: IPv4-mapped
    /// (`::ffff:a.b.c.d`) and IPv4-compatible (`::a.b.c.d`) addresses become plain IPv4, other
    /// IPv6 text is lower-cased. Pass `resolvedHost` as MariaDB would have it: `localhost` for
    /// 127.0.0.1/::1 and a confirmed name otherwise when name resolution is on, else nil.
    public static func tcp(ip: String, resolvedHost: String?) -> ClientIdentity {
        ClientIdentity(host: resolvedHost, ip: normalizedIP(ip))
    }

    /// The host text of MariaDB's `Access denied for user 'u'@'<this>'`: the host if known,
    /// else the IP (`sctx->host_or_ip`).
    public var displayHost: String { host ?? ip ?? "" }

    static func normalizedIP(_ text: String) -> String {
        guard text.utf8.contains(UInt8(ascii: ":")) else { return text }
        let lower = String(decoding: text.utf8.map(ASCII.lowercased), as: UTF8.self)
        for prefix in ["::ffff:", "::"] where lower.hasPrefix(prefix) {
            let rest = String(lower.dropFirst(prefix.count))
            if IPv4Address.parseDottedQuad(rest) != nil { return rest }
        }
        return lower
    }
}
