/// An account's host part compiled the way MariaDB's `update_hostname()` and
/// `compare_hostname()` (`sql/sql_acl.cc`) see it.
struct HostPattern: Sendable, Equatable {
    let text: [UInt8]
    /// `a.b.c.d/m.m.m.m` (dotted-quad IPv4 only; a zero mask is not a netmask).
    let network: (address: UInt32, mask: UInt32)?
    let wildcard: WildcardPattern

    init(_ host: String) {
        let bytes = Array(host.utf8)
        text = bytes
        wildcard = WildcardPattern(bytes)
        network = HostPattern.parseNetmask(bytes)
    }

    static func == (lhs: HostPattern, rhs: HostPattern) -> Bool { lhs.text == rhs.text }

    private static func parseNetmask(_ bytes: [UInt8]) -> (address: UInt32, mask: UInt32)? {
        guard let (address, slash) = IPv4Address.calcIP(bytes[...], end: UInt8(ascii: "/")),
            let (mask, _) = IPv4Address.calcIP(bytes[(slash + 1)...], end: nil),
            mask != 0
        else { return nil }
        return (address, mask)
    }

    /// `compare_hostname(&acl_host, host, ip)`.
    func matches(host: [UInt8]?, ip: [UInt8]?) -> Bool {
        matches(host: host, ip: ip, ipv4: ip.flatMap { IPv4Address.calcIP($0[...], end: nil)?.value })
    }

    /// The same, with the client's dotted-quad value (`calc_ip(ip)`) computed once per login.
    func matches(host: [UInt8]?, ip: [UInt8]?, ipv4: UInt32?) -> Bool {
        if let network, let ipv4 {
            return ipv4 & network.mask == network.address
        }
        if let host, wildcard.matchesCaseInsensitive(host) { return true }
        if let ip, wildcard.matchesExactly(ip) { return true }
        return false
    }

    /// `hostname_requires_resolving()`: a name that is not `localhost`, has none of `: % _ /`,
    /// and is not made only of digits and dots. Such rows are dropped under skip_name_resolve.
    var requiresResolving: Bool {
        if text.count == 9, text.map(ASCII.lowercased).elementsEqual("localhost".utf8) { return false }
        for byte in text {
            switch byte {
            case UInt8(ascii: ":"), UInt8(ascii: "%"), UInt8(ascii: "_"), UInt8(ascii: "/"): return false
            default: continue
            }
        }
        return text.contains { !ASCII.isDigit($0) && $0 != UInt8(ascii: ".") }
    }

    /// Notes for hosts MariaDB accepts but that rarely do what the admin meant.
    var lintWarning: String? {
        if let network, network.address & ~network.mask != 0 {
            return
                "netmask host has address bits outside the mask; MariaDB compares the unmasked client address with it, so it never matches"
        }
        if network == nil, let slash = text.firstIndex(of: UInt8(ascii: "/")),
            IPv4Address.calcIP(text[..<slash], end: nil) != nil,
            text[(slash + 1)...].allSatisfy(ASCII.isDigit), slash + 1 < text.count
        {
            return
                "MariaDB does not understand CIDR prefixes; this host is compared as literal text and matches no client (write the mask as a.b.c.d/m.m.m.m)"
        }
        return nil
    }
}
