import Testing

@testable import AccessPolicy

/// Expected answers are the `SELECT CURRENT_USER()` MariaDB 10.11.19 gave for the same
/// accounts and clients (unix socket; TCP from 127.0.0.1 and ::1, with and without
/// skip_name_resolve).
@Suite("Choosing the row: find_user_or_anon with the real client address")
struct AccountMatchTests {
    @Test("''@'localhost' beats 'bob'@'%' for a socket client (and TCP loopback with name resolution)")
    func anonymousBeatsNamedWildcard() throws {
        let policy = try compile("CREATE USER ''@'localhost'; CREATE USER bob@'%' REQUIRE SSL;")
        #expect(policy.match(user: "bob", client: Client.socket, skipNameResolve: false).summary == "''@'localhost'")
        #expect(
            policy.match(user: "bob", client: Client.loopbackResolved, skipNameResolve: false).summary
                == "''@'localhost'"
        )
        #expect(policy.match(user: "bob", client: Client.loopbackIP, skipNameResolve: true).summary == "'bob'@'%'")
        #expect(
            policy.match(user: "bob", client: Client.tcp("192.0.2.7"), skipNameResolve: true).summary == "'bob'@'%'"
        )
    }

    @Test("anonymous rows win only with a strictly larger sort")
    func anonymousStrictness() throws {
        let policy = try compile(
            """
            CREATE USER ''@'localhost', ''@'127.0.0.1';
            CREATE USER a1@'%', a2@'localhost', a3@'127.0.0.1', a4@'127.0.0.%', a5@'l%';
            """
        )
        // socket: host localhost, no IP
        #expect(policy.match(user: "a1", client: Client.socket, skipNameResolve: false).summary == "''@'localhost'")
        #expect(policy.match(user: "a2", client: Client.socket, skipNameResolve: false).summary == "'a2'@'localhost'")
        #expect(policy.match(user: "a3", client: Client.socket, skipNameResolve: false).summary == "''@'localhost'")
        #expect(policy.match(user: "a4", client: Client.socket, skipNameResolve: false).summary == "''@'localhost'")
        #expect(policy.match(user: "a5", client: Client.socket, skipNameResolve: false).summary == "''@'localhost'")
        #expect(policy.match(user: "zz", client: Client.socket, skipNameResolve: false).summary == "''@'localhost'")
        // TCP 127.0.0.1 with name resolution: host localhost and ip 127.0.0.1
        #expect(
            policy.match(user: "a1", client: Client.loopbackResolved, skipNameResolve: false).summary
                == "''@'localhost'"
        )
        #expect(
            policy.match(user: "a2", client: Client.loopbackResolved, skipNameResolve: false).summary
                == "'a2'@'localhost'"
        )
        #expect(
            policy.match(user: "a3", client: Client.loopbackResolved, skipNameResolve: false).summary
                == "'a3'@'127.0.0.1'"
        )
        #expect(
            policy.match(user: "a4", client: Client.loopbackResolved, skipNameResolve: false).summary
                == "''@'localhost'"
        )
        // TCP 127.0.0.1 under skip_name_resolve: no host name, only the IP
        #expect(policy.match(user: "a1", client: Client.loopbackIP, skipNameResolve: true).summary == "''@'127.0.0.1'")
        #expect(policy.match(user: "a2", client: Client.loopbackIP, skipNameResolve: true).summary == "''@'127.0.0.1'")
        #expect(
            policy.match(user: "a3", client: Client.loopbackIP, skipNameResolve: true).summary == "'a3'@'127.0.0.1'"
        )
        #expect(policy.match(user: "zz", client: Client.loopbackIP, skipNameResolve: true).summary == "''@'127.0.0.1'")
    }

    @Test("anonymous versus named wildcards (server: x1/x4/nobody → ''@'127.0.0.%', x2 → named)")
    func anonymousWildcards() throws {
        let policy = try compile(
            "CREATE USER ''@'127.0.0.%', ''@'127.%', x1@'127.%', x2@'127.0.0.%', x3@'127.0.0.1', x4@'1%';"
        )
        let answers = ["x1", "x2", "x3", "x4", "nobody"].map {
            policy.match(user: $0, client: Client.loopbackIP, skipNameResolve: true).summary
        }
        #expect(
            answers == ["''@'127.0.0.%'", "'x2'@'127.0.0.%'", "'x3'@'127.0.0.1'", "''@'127.0.0.%'", "''@'127.0.0.%'"]
        )
    }

    @Test("notMentioned versus noMatchingRow")
    func mentionedOrNot() throws {
        let policy = try compile("CREATE USER alice@'10.%' REQUIRE SSL;")
        #expect(policy.match(user: "bob", client: Client.socket, skipNameResolve: false) == .notMentioned)
        #expect(policy.match(user: "alice", client: Client.socket, skipNameResolve: false) == .noMatchingRow)
        #expect(
            policy.match(user: "alice", client: Client.tcp("10.1.2.3"), skipNameResolve: true).summary
                == "'alice'@'10.%'"
        )
        #expect(
            policy.match(user: "Alice", client: Client.tcp("10.1.2.3"), skipNameResolve: true) == .notMentioned,
            "user names are case-sensitive"
        )
        // An anonymous row that does not match leaves an unknown user notMentioned.
        let withAnonymous = try compile("CREATE USER ''@'10.%'; CREATE USER alice@'10.%';")
        #expect(withAnonymous.match(user: "bob", client: Client.socket, skipNameResolve: false) == .notMentioned)
        #expect(
            withAnonymous.match(user: "bob", client: Client.tcp("10.0.0.1"), skipNameResolve: false).summary
                == "''@'10.%'"
        )
    }

    @Test("localhost rows: socket always, TCP loopback only with name resolution; 127.0.0.1 never for a socket")
    func localhostRules() throws {
        let policy = try compile(
            "CREATE USER u1@'localhost' REQUIRE SSL; CREATE USER u1@'127.0.0.1' REQUIRE X509; CREATE USER u2@'127.0.0.1'; CREATE USER u3@'localhost';"
        )
        #expect(policy.match(user: "u1", client: Client.socket, skipNameResolve: false).summary == "'u1'@'localhost'")
        #expect(
            policy.match(user: "u1", client: Client.loopbackResolved, skipNameResolve: false).summary
                == "'u1'@'localhost'"
        )
        #expect(
            policy.match(user: "u1", client: Client.loopbackIP, skipNameResolve: true).summary == "'u1'@'127.0.0.1'"
        )
        #expect(policy.match(user: "u2", client: Client.socket, skipNameResolve: false) == .noMatchingRow)
        #expect(policy.match(user: "u3", client: Client.loopbackIP, skipNameResolve: true) == .noMatchingRow)
        // skip_name_resolve means no host name over TCP, even if one is passed in.
        #expect(policy.match(user: "u3", client: Client.loopbackResolved, skipNameResolve: true) == .noMatchingRow)
        // …but the socket stays localhost.
        #expect(policy.match(user: "u3", client: Client.socket, skipNameResolve: true).summary == "'u3'@'localhost'")
    }

    @Test("skip_name_resolve drops rows whose host needs DNS, and says so")
    func skipNameResolve() throws {
        let policy = try compile(
            """
            CREATE USER n1@'myhost.example.com' REQUIRE X509;
            CREATE USER n3@'h_st', n3@'nopattern', n1@'%';
            CREATE USER n4@'db.example.com';
            """
        )
        let named = Client.tcp("192.0.2.7", "myhost.example.com")
        #expect(policy.match(user: "n1", client: named, skipNameResolve: false).summary == "'n1'@'myhost.example.com'")
        #expect(policy.match(user: "n1", client: Client.tcp("192.0.2.7"), skipNameResolve: true).summary == "'n1'@'%'")
        #expect(
            policy.match(user: "n3", client: Client.tcp("192.0.2.7", "nopattern"), skipNameResolve: true)
                == .noMatchingRow
        )
        // A user whose only rows need DNS is not mentioned at all under skip_name_resolve.
        #expect(policy.match(user: "n4", client: Client.tcp("192.0.2.7"), skipNameResolve: true) == .notMentioned)
        #expect(
            policy.match(user: "n4", client: Client.tcp("192.0.2.7", "db.example.com"), skipNameResolve: false).summary
                == "'n4'@'db.example.com'"
        )
        // MariaDB 10.11 logs: [Warning] 'user' entry 'h3@myhost.example.com' ignored in --skip-name-resolve mode.
        #expect(
            policy.skipNameResolveWarnings == [
                "t.sql:1:13: 'user' entry 'n1@myhost.example.com' ignored in --skip-name-resolve mode.",
                "t.sql:2:24: 'user' entry 'n3@nopattern' ignored in --skip-name-resolve mode.",
                "t.sql:3:13: 'user' entry 'n4@db.example.com' ignored in --skip-name-resolve mode.",
            ]
        )
        #expect(policy.warnings.isEmpty)
        #expect(policy.warnings(skipNameResolve: true) == policy.skipNameResolveWarnings)
        #expect(policy.warnings(skipNameResolve: false).isEmpty)
    }

    @Test("netmask rows (server: u4 → 127.0.0.1, u5 → netmask, u16 → netmask, u15 → denied)")
    func netmaskRows() throws {
        let policy = try compile(
            """
            CREATE USER u4@'127.0.0.0/255.0.0.0', u4@'127.0.0.1';
            CREATE USER u5@'127.0.0.0/255.0.0.0', u5@'127.0.0.%';
            CREATE USER u15@'127.0.0.1/255.255.255.0';
            CREATE USER u16@'127.0.0.0/255.255.255.0', u16@'::1';
            CREATE USER net@'192.168.1.0/255.255.255.0', net@'%';
            """
        )
        #expect(
            policy.match(user: "u4", client: Client.loopbackResolved, skipNameResolve: false).summary
                == "'u4'@'127.0.0.1'"
        )
        #expect(policy.match(user: "u4", client: Client.socket, skipNameResolve: false) == .noMatchingRow)
        #expect(
            policy.match(user: "u5", client: Client.loopbackResolved, skipNameResolve: false).summary
                == "'u5'@'127.0.0.0/255.0.0.0'"
        )
        #expect(policy.match(user: "u15", client: Client.loopbackResolved, skipNameResolve: false) == .noMatchingRow)
        #expect(
            policy.match(user: "u16", client: Client.loopbackIP, skipNameResolve: true).summary
                == "'u16'@'127.0.0.0/255.255.255.0'"
        )
        #expect(policy.match(user: "u16", client: Client.tcp("::1"), skipNameResolve: true).summary == "'u16'@'::1'")
        #expect(
            policy.match(user: "net", client: Client.tcp("192.168.1.200"), skipNameResolve: true).summary
                == "'net'@'192.168.1.0/255.255.255.0'"
        )
        #expect(
            policy.match(user: "net", client: Client.tcp("192.168.2.1"), skipNameResolve: true).summary == "'net'@'%'"
        )
        #expect(
            policy.match(user: "net", client: Client.tcp("::ffff:192.168.1.9"), skipNameResolve: true).summary
                == "'net'@'192.168.1.0/255.255.255.0'"
        )
    }

    @Test("IPv6 patterns are text wildcards on the compressed form (server, client ::1)")
    func ipv6() throws {
        let policy = try compile(
            "CREATE USER v6@'::1', v6b@'::%', v6c@'0:0:0:0:0:0:0:1', v6d@'%:1', v6e@'2001:db8::%';"
        )
        let client = Client.tcp("::1")
        #expect(policy.match(user: "v6", client: client, skipNameResolve: true).summary == "'v6'@'::1'")
        #expect(policy.match(user: "v6b", client: client, skipNameResolve: true).summary == "'v6b'@'::%'")
        #expect(policy.match(user: "v6c", client: client, skipNameResolve: true) == .noMatchingRow)
        #expect(policy.match(user: "v6d", client: client, skipNameResolve: true).summary == "'v6d'@'%:1'")
        #expect(
            policy.match(user: "v6e", client: Client.tcp("2001:DB8::5"), skipNameResolve: true).summary
                == "'v6e'@'2001:db8::%'"
        )
        #expect(policy.match(user: "v6e", client: Client.tcp("2001:db9::5"), skipNameResolve: true) == .noMatchingRow)
    }

    @Test("host-name rows match resolved names case-insensitively")
    func hostNames() throws {
        let policy = try compile("CREATE USER app@'%.Example.com', app@'%';")
        #expect(
            policy.match(user: "app", client: Client.tcp("192.0.2.7", "web1.EXAMPLE.com"), skipNameResolve: false)
                .summary == "'app'@'%.example.com'"
        )
        #expect(
            policy.match(user: "app", client: Client.tcp("192.0.2.7"), skipNameResolve: false).summary == "'app'@'%'"
        )
    }

    @Test("the matched row carries its requirement and where it was defined")
    func matchedRow() throws {
        let policy = try compile("CREATE USER 'alice'@'localhost' REQUIRE NONE;\nCREATE USER 'alice'@'%' REQUIRE SSL;")
        #expect(
            policy.match(user: "alice", client: Client.tcp("192.0.2.7"), skipNameResolve: true)
                == .matched(
                    AccountRow(
                        account: AccountName(user: "alice", host: "%"),
                        requirement: .ssl,
                        definedAt: SourceLocation(file: "t.sql", line: 2, column: 13)
                    )
                )
        )
        #expect(
            policy.match(user: "alice", client: Client.socket, skipNameResolve: true).summary == "'alice'@'localhost'"
        )
    }
}
