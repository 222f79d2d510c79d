import Testing

@testable import AccessPolicy

/// Row order is `acl_user_compare()` (sql/sql_acl.cc): strcmp(user), then
/// `get_magic_sort("hu", host, user)` descending, then `-strcmp(host)` — "resolve ambiguity
/// between "localhost" and "127.0.0.1"/"::1" by sorting "localhost" before loopback
/// addresses". `get_magic_sort` (sql/sql_acl_getsort.inl): "Returns a number which, if sorted in
/// descending order, magically puts patterns in the order from most specific (e.g. no wildcards)
/// to most generic (e.g. "%")", with L/K/M/P as explained in its comment block.
@Suite("MariaDB's sort: get_magic_sort and acl_user_compare")
struct MagicSortTests {
    private func hostOrder(_ hosts: [String], user: String = "u") throws -> [String] {
        let text = hosts.map { "CREATE USER '\(user)'@'\($0)';" }.joined(separator: "\n")
        return try compile(text).rows.map(\.account.host)
    }

    @Test("the host ordering table")
    func orderingTable() throws {
        let expected = [
            // No wildcard (exact names, IPs, ip/mask): magic 0, then reverse byte order.
            "localhost", "::1", "192.168.1.5", "192.168.1.0/255.255.255.0", "127.0.0.1",
            // '_' only (K = 0): M·2 in the top digit, tiny compared with any '%' pattern;
            // then the literal prefix P.
            "_92.168.1.5", "192.168.1._", "1__.168.1.5", "192.168.1.__",
            // '%' patterns: fewer free characters L = 255 − N − M first.
            "%.example.com", "192.168.1.%", "192.168.%", "%.%", "%",
        ]
        let actual = try hostOrder(expected.reversed())
        #expect(actual == expected, "\(actual)")
        #expect(try hostOrder(expected.shuffled()) == expected)
    }

    @Test("magic numbers follow the formula in sql_acl_getsort.inl")
    func magicValues() {
        func magic(_ host: String) -> UInt64 { MagicSort.hostMagic(Array(host.utf8)) }
        #expect(magic("localhost") == 0)
        #expect(magic("192.168.1.0/255.255.255.0") == 0)
        // '%': N=0 K=1 M=0 P=0, L=255 > M → (((255·2+1)·256 + 1)·32 + 0)·256 + 0
        #expect(magic("%") == ((511 * 256 + 1) * 32) * 256)
        // '192.168.1.%': N=10 K=1 P=10, L=245
        #expect(magic("192.168.1.%") == (((245 * 2 + 1) * 256 + 1) * 32) * 256 + 10)
        // '192.168.1._': N=10 M=1 K=0 P=10, L=0 ≤ M → ((1·2·256 + 0)·32 + 0)·256 + 10
        #expect(magic("192.168.1._") == (2 * 256 * 32) * 256 + 10)
        // '\%' is a literal: N=1, no wildcard.
        #expect(magic("a\\%") == 0)
        // consecutive '%' count as one run.
        #expect(magic("%%") == magic("%"))
        // K and M are capped at 31.
        #expect(magic(String(repeating: "_", count: 40)) == magic(String(repeating: "_", count: 31)))
    }

    @Test("the anonymous bit: at equal hosts the named row sorts first, ''@host is less specific")
    func anonymousBit() {
        let named = MagicSort.userHostSort(host: Array("localhost".utf8), userIsEmpty: false)
        let anonymous = MagicSort.userHostSort(host: Array("localhost".utf8), userIsEmpty: true)
        let namedPercent = MagicSort.userHostSort(host: Array("%".utf8), userIsEmpty: false)
        #expect(named > anonymous)
        #expect(anonymous > namedPercent)
        #expect(named == ~UInt64(0))
    }

    @Test("rows sort by user bytes first, anonymous rows first")
    func userFirst() throws {
        let policy = try compile("CREATE USER b@'%', ''@'%', a@'localhost', ''@localhost, 'B'@'1.2.3.4', a@'%';")
        #expect(
            policy.accountNames == [
                "''@'localhost'", "''@'%'", "'B'@'1.2.3.4'", "'a'@'localhost'", "'a'@'%'", "'b'@'%'",
            ]
        )
    }

    /// Each pair was created on MariaDB 10.11.19 for one user; `SELECT CURRENT_USER()` over
    /// TCP from 127.0.0.1 (skip_name_resolve) named the first host, i.e. it sorts first.
    @Test(
        "pairs whose winner was checked on the real server",
        arguments: [
            ("%.0.0.1", "127.0.%"),  // equal L, K, M: smaller literal prefix P wins
            ("%%", "%"),  // equal magic: reverse byte order
            ("_%", "%_"),  // equal magic: '_' (0x5F) > '%' (0x25)
            ("127.0.%", "%0.0.1"),  // smaller L wins
            ("_27.0.0.1", "127.0.0._"),  // both M=1: P 0 < 8
            ("127.0.0.1%", "127.0.0.%"),  // N 9 > 8, so L smaller
            ("127.0.0.1/255.255.255.255", "127.0.0.1"),  // both exact: reverse strcmp
            ("127.0.0.0/255.255.255.0", "127.0.0.0/255.0.0.0"),
            ("%1", "1%"),
            ("1__.0.0.1", "12_.0.0._"),
            ("12_.0.0.1", "127.0.0.%"),  // any '_'-only pattern beats a '%' pattern
            ("127.0.0.0/255.0.0.0", "127.0.0.%"),
            ("%.%", "%"),
        ]
    )
    func verifiedPairs(first: String, second: String) throws {
        #expect(try hostOrder([second, first]) == [first, second])
        let policy = try compile("CREATE USER w@'\(second)', w@'\(first)';")
        #expect(policy.match(user: "w", client: Client.loopbackIP, skipNameResolve: true).summary == "'w'@'\(first)'")
    }

    /// Socket client (host "localhost"), checked on the server the same way.
    @Test(
        "pairs checked over the unix socket",
        arguments: [
            ("localhos_", "127.0.0.%"), ("localhos_", "l%"), ("%ocalhost", "localhos%"),
            ("l_calhost", "localhos_"), ("l%t", "lo%"), ("%l%o%c%a%l%h%o%s%t%", "l%h%t"),
            ("_________", "%"),
        ]
    )
    func socketPairs(first: String, second: String) throws {
        let policy = try compile("CREATE USER w@'\(second)', w@'\(first)';")
        #expect(policy.match(user: "w", client: Client.socket, skipNameResolve: false).summary == "'w'@'\(first)'")
    }
}
