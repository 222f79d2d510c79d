import Testing

@testable import AccessPolicy

@Suite("Host patterns: compare_hostname, wild_case_compare, wild_compare, calc_ip")
struct HostPatternTests {
    private func matches(_ pattern: String, host: String?, ip: String?) -> Bool {
        HostPattern(pattern).matches(host: host.map { Array($0.utf8) }, ip: ip.map { Array($0.utf8) })
    }

    @Test("% any run, _ exactly one byte, \\ escapes")
    func wildcards() {
        #expect(matches("%", host: "anything", ip: nil))
        #expect(matches("%", host: nil, ip: "10.1.2.3"))
        #expect(matches("%", host: "", ip: nil))
        #expect(matches("%.example.com", host: "db.example.com", ip: nil))
        #expect(!matches("%.example.com", host: "example.com", ip: nil))
        #expect(matches("h_st", host: "host", ip: nil))
        #expect(!matches("h_st", host: "hst", ip: nil))
        #expect(!matches("h_st", host: "hoost", ip: nil))
        #expect(matches("a%b%c", host: "abbc", ip: nil))
        #expect(matches("%%", host: "x", ip: nil))
        #expect(matches("x%", host: "x", ip: nil))
        #expect(!matches("localhost\\_", host: "localhost_x", ip: nil))
        #expect(matches("localhost\\_", host: "localhost_", ip: nil))
        #expect(!matches("localhost\\_", host: "localhostx", ip: nil))
        #expect(matches("a\\%", host: "a%", ip: nil))
        #expect(!matches("a\\%", host: "ab", ip: nil))
        #expect(matches("a\\", host: "a\\", ip: nil), "a trailing backslash is itself")
        // '_' is one byte, not one character (the server compares bytes).
        #expect(matches("__", host: "ä", ip: nil))
        #expect(!matches("_", host: "ä", ip: nil))
    }

    @Test("host names compare case-insensitively, IPs case-sensitively")
    func caseRules() {
        #expect(matches("db.example.com", host: "DB.Example.COM", ip: nil))
        #expect(matches("2001:db8::%", host: nil, ip: "2001:db8::1"))
        #expect(!matches("2001:DB8::%", host: nil, ip: "2001:db8::1"))
        #expect(matches("2001:DB8::%", host: "2001:db8::1", ip: nil), "the same text as a host name would match")
    }

    @Test("the server's signed-char quirk: '%' followed by a non-ASCII byte never matches a host name")
    func signedCharQuirk() {
        #expect(!matches("%ä", host: "xä", ip: nil))
        #expect(!matches("%%ä", host: "ä", ip: nil))
        #expect(!matches("%\\ä", host: "ä", ip: nil))
        #expect(matches("ä%", host: "äx", ip: nil))
        #expect(matches("%_", host: "ä", ip: nil))
        #expect(matches("%ä", host: nil, ip: "xä"), "wild_compare against the IP has no such quirk")
    }

    @Test("ip/netmask: dotted-quad IPv4 only, (ip & mask) == net")
    func netmask() {
        #expect(matches("192.168.1.0/255.255.255.0", host: nil, ip: "192.168.1.77"))
        #expect(!matches("192.168.1.0/255.255.255.0", host: nil, ip: "192.168.2.77"))
        #expect(matches("10.0.0.0/255.0.0.0", host: "name.example", ip: "10.200.0.1"))
        // The net is not masked first: bits outside the mask never match.
        #expect(!matches("127.0.0.1/255.255.255.0", host: nil, ip: "127.0.0.1"))
        // A netmask row decides by the IP alone, even if the host name would match the text.
        #expect(!matches("192.168.1.0/255.255.255.0", host: "192.168.1.0/255.255.255.0", ip: "10.0.0.1"))
        // A socket client (no IP) falls through to the text comparison.
        #expect(!matches("127.0.0.0/255.0.0.0", host: "localhost", ip: nil))
        // An IPv6 client is not a dotted quad: the text comparison does not match either.
        #expect(!matches("0.0.0.0/255.0.0.0", host: nil, ip: "::1"))
        // CIDR is not understood; a zero mask is not a netmask.
        #expect(HostPattern("10.0.0.0/8").network == nil)
        #expect(HostPattern("0.0.0.0/0.0.0.0").network == nil)
        #expect(matches("0.0.0.0/0.0.0.0", host: "0.0.0.0/0.0.0.0", ip: nil))
    }

    @Test("calc_ip reads each part with str2int: blanks and a sign allowed, 0…255")
    func calcIP() {
        #expect(IPv4Address.parseDottedQuad("1.2.3.4") == 0x0102_0304)
        #expect(IPv4Address.parseDottedQuad("001.002.003.004") == 0x0102_0304)
        #expect(IPv4Address.parseDottedQuad(" 1.+2. 3.-0") == 0x0102_0300)
        #expect(IPv4Address.parseDottedQuad("1.2.3.-1") == nil)
        #expect(IPv4Address.parseDottedQuad("1.2.3.256") == nil)
        #expect(IPv4Address.parseDottedQuad("1.2.3") == nil)
        #expect(IPv4Address.parseDottedQuad("1.2.3.4.5") == nil)
        #expect(IPv4Address.parseDottedQuad("1.2.3.4 ") == nil)
        #expect(IPv4Address.parseDottedQuad("1.2..4") == nil)
        #expect(IPv4Address.parseDottedQuad(String(repeating: "0", count: 30) + "1.2.3.4") == 0x0102_0304)
        #expect(IPv4Address.parseDottedQuad("99999999999999999999999.2.3.4") == nil)
        #expect(HostPattern("192.168.1.0/255.255.255.0").network! == (0xC0A8_0100, 0xFFFF_FF00))
    }

    @Test("hostname_requires_resolving: letters, none of : % _ /, not localhost")
    func requiresResolving() {
        #expect(HostPattern("db.example.com").requiresResolving)
        #expect(HostPattern("12.ab").requiresResolving)
        #expect(HostPattern("nopattern").requiresResolving)
        #expect(!HostPattern("localhost").requiresResolving)
        #expect(!HostPattern("192.168.1.1").requiresResolving)
        #expect(!HostPattern("192.168.1.0/255.255.255.0").requiresResolving)
        #expect(!HostPattern("%").requiresResolving)
        #expect(!HostPattern("192.168.1.%").requiresResolving)
        #expect(!HostPattern("ab%").requiresResolving)
        #expect(!HostPattern("h_st").requiresResolving)
        #expect(!HostPattern("::1").requiresResolving)
        #expect(!HostPattern("aaaa:ffff:1234:5678").requiresResolving)
        #expect(!HostPattern("").requiresResolving)
    }

    @Test("no exponential blow-up on pathological patterns")
    func pathological() {
        let pattern = String(repeating: "%a", count: 120) + "%b"
        let host = String(repeating: "a", count: 255)
        #expect(!matches(pattern, host: host, ip: host))
    }

    @Test("ClientIdentity normalises IPv4-mapped addresses and prints MariaDB's host text")
    func clientIdentity() {
        #expect(ClientIdentity.tcp(ip: "::ffff:192.0.2.7", resolvedHost: nil).ip == "192.0.2.7")
        #expect(ClientIdentity.tcp(ip: "::FFFF:192.0.2.7", resolvedHost: nil).ip == "192.0.2.7")
        #expect(ClientIdentity.tcp(ip: "::192.0.2.7", resolvedHost: nil).ip == "192.0.2.7")
        #expect(ClientIdentity.tcp(ip: "2001:DB8::1", resolvedHost: nil).ip == "2001:db8::1")
        #expect(ClientIdentity.tcp(ip: "::1", resolvedHost: nil).ip == "::1")
        #expect(ClientIdentity.tcp(ip: "192.0.2.7", resolvedHost: nil).displayHost == "192.0.2.7")
        #expect(ClientIdentity.tcp(ip: "127.0.0.1", resolvedHost: "localhost").displayHost == "localhost")
        #expect(ClientIdentity.unixSocket() == ClientIdentity(host: "localhost", ip: nil))
        #expect(ClientIdentity.unixSocket().displayHost == "localhost")
    }
}
