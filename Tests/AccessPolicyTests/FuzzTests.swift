import Testing

@testable import AccessPolicy

/// The policy file and the client's user name come from outside: nothing may trap.
@Suite("Fuzzing: parse and match never trap")
struct FuzzTests {
    static let seed = """
        CREATE USER 'alice'@'localhost' REQUIRE NONE;
        CREATE OR REPLACE USER `a``b`@`%` IDENTIFIED VIA ed25519 USING PASSWORD('x') OR unix_socket
          REQUIRE SUBJECT '/CN=J\\\\xC3' AND ISSUER "i""x" CIPHER 'c' WITH MAX_USER_CONNECTIONS -1 ACCOUNT LOCK PASSWORD EXPIRE INTERVAL 3 DAY;
        ALTER USER IF EXISTS bob@'192.168.1.%' REQUIRE X509; -- comment
        GRANT SELECT (a, `b`), INSERT ON db.t TO ''@'10.0.0.0/255.0.0.0', c REQUIRE SSL WITH GRANT OPTION;
        /*!40101 SET x */ # hash
        GRANT PROXY ON ''@'%' TO c; GRANT r TO c WITH ADMIN OPTION; DROP USER IF EXISTS z;
        CREATE ROLE r; REVOKE ALL ON *.* FROM c; SET DEFAULT ROLE r FOR c; FLUSH PRIVILEGES;
        """

    static let vocabulary = [
        "CREATE", "USER", "ALTER", "GRANT", "DROP", "RENAME", "ROLE", "OR", "REPLACE", "IF", "NOT", "EXISTS",
        "REQUIRE", "NONE", "SSL", "X509", "SUBJECT", "ISSUER", "CIPHER", "AND", "WITH", "ON", "TO", "BY",
        "IDENTIFIED", "VIA", "USING", "AS", "PASSWORD", "(", ")", ",", ";", ".", "*", "@", "@@", "'", "\"", "`",
        "'x'", "\"y\"", "`z`", "''", "\\", "\\'", "%", "_", "bob", "localhost", "1.2.3.4/255.0.0.0", "-- ", "--",
        "#", "/*", "*/", "/*!", "\n", " ", "\t", "é", "\u{0}", "MAX_USER_CONNECTIONS", "5", "-", "1.5", "ACCOUNT",
        "LOCK", "EXPIRE", "INTERVAL", "DAY", "PROXY", "ALL", "PRIVILEGES", "TABLE", "PACKAGE", "BODY", "PUBLIC",
        "CURRENT_USER", "SET", "DEFAULT", "REVOKE", "FLUSH", "\r\n", "0x", "1e", "'\\\\x'", "`a``b`",
    ]

    private static func exercise(_ text: String) {
        guard let policy = try? AccessPolicy.parse(text, fileName: "fuzz.sql") else { return }
        let clients: [ClientIdentity] = [
            .unixSocket(), .tcp(ip: "127.0.0.1", resolvedHost: "localhost"), .tcp(ip: "10.1.2.3", resolvedHost: nil),
            .tcp(ip: "::1", resolvedHost: nil), .tcp(ip: "", resolvedHost: ""), ClientIdentity(host: nil, ip: nil),
        ]
        let users = policy.rows.map(\.account.user) + ["", "bob", "x\u{0}y"]
        for user in users.prefix(8) {
            for client in clients {
                for skip in [false, true] {
                    if case .matched(let row) = policy.match(user: user, client: client, skipNameResolve: skip) {
                        #expect(policy.rows.contains(row))
                        _ = row.requirement.evaluate(.plaintext)
                        _ = row.requirement.description
                    }
                }
            }
        }
    }

    @Test("random token soup")
    func tokenSoup() {
        var rng = SplitMix64(seed: 42)
        for _ in 0..<6_000 {
            let count = Int(rng.next() % 40)
            var text = ""
            for _ in 0..<count {
                text += Self.vocabulary[Int(rng.next() % UInt64(Self.vocabulary.count))]
                if rng.next() % 2 == 0 { text += " " }
            }
            Self.exercise(text)
        }
    }

    @Test("random mutations of a valid file")
    func mutations() {
        var rng = SplitMix64(seed: 7)
        let base = Array(Self.seed.unicodeScalars)
        let inserts: [Unicode.Scalar] = [
            "'", "\"", "`", "\\", ";", "@", "%", "_", "/", "*", "-", "#", "\n", "\u{0}", "é", " ", ",",
        ]
        for _ in 0..<3_000 {
            var scalars = base
            for _ in 0..<Int(1 + rng.next() % 6) {
                guard !scalars.isEmpty else { break }
                let at = Int(rng.next() % UInt64(scalars.count))
                switch rng.next() % 3 {
                case 0: scalars.remove(at: at)
                case 1: scalars.insert(inserts[Int(rng.next() % UInt64(inserts.count))], at: at)
                default: scalars[at] = inserts[Int(rng.next() % UInt64(inserts.count))]
                }
            }
            var text = ""
            text.unicodeScalars.append(contentsOf: scalars)
            Self.exercise(text)
        }
    }

    @Test("random bytes, decoded leniently")
    func randomBytes() {
        var rng = SplitMix64(seed: 99)
        for _ in 0..<3_000 {
            let bytes = (0..<Int(rng.next() % 120)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            Self.exercise(String(decoding: bytes, as: UTF8.self))
        }
    }

    @Test("the seed itself parses")
    func seedParses() throws {
        let policy = try AccessPolicy.parse(Self.seed, fileName: "fuzz.sql")
        #expect(policy.rows.count == 4)
    }

    @Test("long and deep inputs")
    func bigInputs() throws {
        let many = (0..<2_000).map { "CREATE USER u\($0)@'10.\($0 % 256).%' REQUIRE SSL;" }.joined(separator: "\n")
        let policy = try AccessPolicy.parse(many, fileName: "big.sql")
        #expect(policy.rows.count == 2_000)
        #expect(
            policy.match(user: "u1999", client: .tcp(ip: "10.207.1.1", resolvedHost: nil), skipNameResolve: true)
                .summary == "'u1999'@'10.207.%'"
        )
        Self.exercise(String(repeating: "(", count: 50_000))
        Self.exercise(String(repeating: "'", count: 50_001))
        Self.exercise("CREATE USER a REQUIRE SUBJECT " + String(repeating: "'x' ", count: 5_000) + ";")
        Self.exercise(String(repeating: "/*", count: 10_000))
        Self.exercise("CREATE USER " + (0..<3_000).map { "u\($0)" }.joined(separator: ",") + ";")
        // A pathological host pattern and a long user name at match time.
        let pathological = try AccessPolicy.parse(
            "CREATE USER a@'\(String(repeating: "%a", count: 120))%b';",
            fileName: "p.sql"
        )
        #expect(
            pathological.match(
                user: "a",
                client: ClientIdentity(host: String(repeating: "a", count: 100_000), ip: nil),
                skipNameResolve: false
            ) == .noMatchingRow
        )
        #expect(
            pathological.match(
                user: String(repeating: "a", count: 100_000),
                client: .unixSocket(),
                skipNameResolve: false
            ) == .notMentioned
        )
    }
}
