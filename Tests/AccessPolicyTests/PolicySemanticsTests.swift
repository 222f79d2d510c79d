import Testing

@testable import AccessPolicy

@Suite("Statements applied in order, as on a MariaDB server")
struct PolicySemanticsTests {
    @Test("CREATE without REQUIRE is NONE; ALTER without REQUIRE leaves it; ALTER with REQUIRE replaces it")
    func createAndAlter() throws {
        let policy = try compile(
            """
            CREATE USER a, b REQUIRE X509;
            ALTER USER b IDENTIFIED BY 'x';
            ALTER USER a REQUIRE SSL;
            """
        )
        #expect(policy.requirement("a", "%") == .ssl)
        #expect(policy.requirement("b", "%") == .x509)
        #expect(policy.row("a", "%")?.definedAt == SourceLocation(file: "t.sql", line: 3, column: 12))
        #expect(policy.row("b", "%")?.definedAt == SourceLocation(file: "t.sql", line: 1, column: 16))
        #expect(policy.warnings.isEmpty)
    }

    @Test("CREATE of an existing account: error, OR REPLACE replaces, IF NOT EXISTS keeps (warning)")
    func createExisting() throws {
        let policy = try compile(
            """
            CREATE USER a REQUIRE SSL;
            CREATE USER IF NOT EXISTS a REQUIRE X509;
            CREATE USER b REQUIRE SSL;
            CREATE OR REPLACE USER b;
            """
        )
        #expect(policy.requirement("a", "%") == .ssl)
        #expect(policy.requirement("b", "%") == TLSRequirement.none)
        #expect(
            policy.warnings == [
                "t.sql:2:27: Can't create user 'a'@'%'; it already exists (CREATE USER IF NOT EXISTS leaves it unchanged)"
            ]
        )
        #expect(
            rejection("CREATE USER a; CREATE USER a;")?.message.hasPrefix("Operation CREATE USER failed for 'a'@'%'")
                == true
        )
    }

    @Test("ALTER of an undefined account defines it, with a warning; ALTER IF EXISTS skips it")
    func alterUndefined() throws {
        let policy = try compile(
            """
            ALTER USER 'alice'@'%' REQUIRE CIPHER 'ECDH-RSA-AES256-SHA384';
            ALTER USER bob IDENTIFIED BY 'x';
            ALTER USER IF EXISTS carol REQUIRE SSL;
            """
        )
        #expect(
            policy.requirement("alice", "%") == .specified(cipher: "ECDH-RSA-AES256-SHA384", issuer: nil, subject: nil)
        )
        #expect(policy.requirement("bob", "%") == TLSRequirement.none)
        #expect(policy.requirement("carol", "%") == nil)
        #expect(
            policy.warnings == [
                "t.sql:1:12: ALTER USER of undefined account 'alice'@'%' defines it with REQUIRE CIPHER 'ECDH-RSA-AES256-SHA384'; MariaDB would refuse it (Operation ALTER USER failed)",
                "t.sql:2:12: ALTER USER of undefined account 'bob'@'%' defines it with REQUIRE NONE; MariaDB would refuse it (Operation ALTER USER failed)",
                "t.sql:3:22: User 'carol'@'%' does not exist (ALTER USER IF EXISTS skips it)",
            ]
        )
    }

    @Test("the seed page's ALTER examples pasted alone, including its line-broken literal")
    func seedPageAlters() throws {
        let policy = try compile(
            """
            ALTER USER 'alice'@'%'
              REQUIRE SUBJECT '/CN=alice/O=My Dom, Inc./C=US/ST=Oregon/
            L=Portland'
              AND ISSUER '/C=FI/ST=Somewhere/L=City/ O=Some Company/CN=Peter
            Parker/emailAddress=p.parker@marvel.com';
            """
        )
        // A literal may span lines; the newline is part of the value, exactly as MariaDB stores it.
        #expect(
            policy.requirement("alice", "%")
                == .specified(
                    cipher: nil,
                    issuer:
                        "/C=FI/ST=Somewhere/L=City/ O=Some Company/CN=Peter\nParker/emailAddress=p.parker@marvel.com",
                    subject: "/CN=alice/O=My Dom, Inc./C=US/ST=Oregon/\nL=Portland"
                )
        )
    }

    @Test("GRANT … REQUIRE sets it, GRANT without REQUIRE leaves it, GRANT creates missing accounts")
    func grant() throws {
        let policy = try compile(
            """
            CREATE USER a REQUIRE X509;
            GRANT SELECT ON db.* TO a;
            GRANT USAGE ON *.* TO b REQUIRE SSL;
            GRANT SELECT ON *.* TO c IDENTIFIED BY 'pw';
            GRANT USAGE ON *.* TO a, d@localhost REQUIRE SUBJECT '/CN=x';
            """
        )
        let subject = TLSRequirement.specified(cipher: nil, issuer: nil, subject: "/CN=x")
        #expect(policy.requirement("a", "%") == subject)
        #expect(policy.requirement("b", "%") == .ssl)
        #expect(policy.requirement("c", "%") == TLSRequirement.none)
        #expect(policy.requirement("d", "localhost") == subject)
        #expect(
            policy.warnings == [
                "t.sql:3:23: GRANT creates account 'b'@'%' (MariaDB does so only without NO_AUTO_CREATE_USER, which its default sql_mode sets)",
                "t.sql:5:26: GRANT creates account 'd'@'localhost' (MariaDB does so only without NO_AUTO_CREATE_USER, which its default sql_mode sets)",
            ]
        )
    }

    @Test("roles: GRANT to a role created in the file, or to PUBLIC, touches no account")
    func roles() throws {
        let policy = try compile(
            """
            CREATE ROLE app;
            GRANT SELECT ON db.* TO app;
            GRANT SELECT ON db.* TO PUBLIC;
            GRANT app TO alice@'%' IDENTIFIED BY 'x';
            GRANT USAGE ON *.* TO app REQUIRE SSL;
            CREATE USER app;
            DROP ROLE app;
            GRANT USAGE ON *.* TO other REQUIRE X509;
            """
        )
        // A role grant changes nothing, so alice is never created; CREATE USER app is 'app'@'%',
        // as on the server; 'other' is an account because it is no role.
        #expect(policy.accountNames == ["'app'@'%'", "'other'@'%'"])
        #expect(policy.requirement("app", "%") == TLSRequirement.none)
        #expect(policy.warnings.contains("t.sql:5:23: REQUIRE on role 'app' has no effect on logins"))
        // With IDENTIFIED the bare name is an account even if a role has that name.
        let identified = try compile("CREATE ROLE r; GRANT USAGE ON *.* TO r IDENTIFIED BY 'x' REQUIRE SSL;")
        #expect(identified.requirement("r", "%") == .ssl)
    }

    @Test("DROP USER removes; unknown is an error unless IF EXISTS (warning)")
    func drop() throws {
        let policy = try compile(
            """
            CREATE USER a, b@localhost REQUIRE SSL;
            DROP USER a;
            DROP USER IF EXISTS a, b@localhost;
            CREATE USER a REQUIRE X509;
            """
        )
        #expect(policy.accountNames == ["'a'@'%'"])
        #expect(policy.requirement("a", "%") == .x509)
        #expect(policy.warnings == ["t.sql:3:21: User 'a'@'%' does not exist (DROP USER IF EXISTS skips it)"])
    }

    @Test("RENAME USER keeps the requirement")
    func rename() throws {
        let policy = try compile("CREATE USER a@h REQUIRE X509; RENAME USER a@h TO b@'%', b TO c;")
        #expect(policy.accountNames == ["'c'@'%'"])
        #expect(policy.requirement("c", "%") == .x509)
    }

    @Test("host names are lower-cased, so differently cased hosts are the same account; user names are not")
    func caseRules() throws {
        #expect(
            rejection("CREATE USER h17@localhost, h17@LOCALHOST;")?.message.hasPrefix(
                "Operation CREATE USER failed for 'h17'@'localhost'"
            ) == true
        )
        let policy = try compile("CREATE USER Bob, bob REQUIRE SSL;")
        #expect(policy.accountNames == ["'Bob'@'%'", "'bob'@'%'"])
    }

    @Test("user names compare as bytes, not as canonically equivalent Unicode")
    func byteExactNames() throws {
        let policy = try compile("CREATE USER 'caf\u{E9}' REQUIRE SSL; CREATE USER 'cafe\u{301}' REQUIRE X509;")
        #expect(policy.rows.count == 2)
        #expect(
            policy.match(user: "caf\u{E9}", client: Client.socket, skipNameResolve: false).summary == "'caf\u{E9}'@'%'"
        )
        if case .matched(let row) = policy.match(user: "cafe\u{301}", client: Client.socket, skipNameResolve: false) {
            #expect(row.requirement == .x509)
        } else {
            Issue.record("no match")
        }
    }

    @Test("hosts MariaDB accepts but never matches get a warning")
    func hostLint() throws {
        let policy = try compile("CREATE USER a@'192.168.1.1/255.255.255.0', b@'10.0.0.0/8';")
        #expect(policy.warnings.count == 2)
        #expect(policy.warnings.allSatisfy { $0.hasPrefix("t.sql:1:") })
    }
}
