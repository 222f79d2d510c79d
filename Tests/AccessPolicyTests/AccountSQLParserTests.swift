import Testing

@testable import AccessPolicy

@Suite("Account SQL parser: statement forms")
struct AccountSQLParserTests {
    @Test("quoting styles and bare names; user alone means user@'%'; host lower-cased, user not")
    func quotingStyles() throws {
        let policy = try compile(
            """
            CREATE USER 'a'@'Host1', "b"@"HOST2", `c`@`Host3`, d@Host4.Example.COM, e, 'F'@'%', `with``tick`@`x`;
            CREATE USER 'g'@'' , h@'ÄÖ', ''@'localhost', ``@`%`;
            """
        )
        #expect(
            Set(policy.accountNames) == [
                "'a'@'host1'", "'b'@'host2'", "'c'@'host3'", "'d'@'host4.example.com'", "'e'@'%'",
                "'F'@'%'", "'with`tick'@'x'", "'g'@'%'", "'h'@'äö'", "''@'localhost'", "''@'%'",
            ]
        )
    }

    @Test("keywords are case-insensitive; non-reserved keywords can be bare user names")
    func keywordsAndNames() throws {
        let policy = try compile(
            "create user user@x require ssl; Create User password, identified@x Identified By 'p' rEqUiRe X509;"
        )
        #expect(policy.requirement("user", "x") == .ssl)
        #expect(policy.requirement("password", "%") == .x509)
        #expect(policy.requirement("identified", "x") == .x509)
    }

    @Test("REQUIRE forms: NONE, SSL, X509, options with AND, with spaces, mixed, any order")
    func requireForms() throws {
        let policy = try compile(
            """
            CREATE USER n REQUIRE NONE;
            CREATE USER s REQUIRE SSL;
            CREATE USER x REQUIRE X509;
            CREATE USER a REQUIRE SUBJECT 's' AND ISSUER 'i' AND CIPHER 'c';
            CREATE USER b REQUIRE CIPHER 'c' SUBJECT 's' ISSUER 'i';
            CREATE USER c REQUIRE ISSUER 'i' AND CIPHER 'c' SUBJECT 's';
            CREATE USER d REQUIRE CIPHER 'TLS_AES_128_GCM_SHA256';
            """
        )
        #expect(policy.requirement("n", "%") == TLSRequirement.none)
        #expect(policy.requirement("s", "%") == .ssl)
        #expect(policy.requirement("x", "%") == .x509)
        let all = TLSRequirement.specified(cipher: "c", issuer: "i", subject: "s")
        #expect(policy.requirement("a", "%") == all)
        #expect(policy.requirement("b", "%") == all)
        #expect(policy.requirement("c", "%") == all)
        #expect(policy.requirement("d", "%") == .specified(cipher: "TLS_AES_128_GCM_SHA256", issuer: nil, subject: nil))
    }

    @Test("every ignored clause: IDENTIFIED forms, WITH limits, PASSWORD EXPIRE forms, ACCOUNT LOCK")
    func ignoredClauses() throws {
        let policy = try compile(
            """
            CREATE USER a IDENTIFIED BY 'pw', b IDENTIFIED BY PASSWORD '*94BDCEBE19083CE2A1F959FD02F964C7AF4CFC29' REQUIRE SSL;
            CREATE USER c IDENTIFIED VIA ed25519 USING PASSWORD('secret') OR mysql_native_password USING PASSWORD('x')
              REQUIRE NONE WITH MAX_QUERIES_PER_HOUR 10 MAX_UPDATES_PER_HOUR 2 MAX_CONNECTIONS_PER_HOUR 3
              MAX_USER_CONNECTIONS -1 MAX_STATEMENT_TIME 1.5 PASSWORD EXPIRE INTERVAL 30 DAY ACCOUNT LOCK;
            CREATE USER d IDENTIFIED WITH unix_socket AS 'root' PASSWORD EXPIRE NEVER;
            CREATE USER e IDENTIFIED VIA pam USING 'mariadb' ACCOUNT UNLOCK PASSWORD EXPIRE DEFAULT;
            CREATE USER f PASSWORD EXPIRE;
            CREATE USER g IDENTIFIED VIA 'gssapi' AS 'x@REALM';
            ALTER USER a IDENTIFIED BY 'new' WITH MAX_USER_CONNECTIONS 4;
            """
        )
        #expect(policy.requirement("a", "%") == .ssl)
        #expect(policy.requirement("b", "%") == .ssl)
        #expect(policy.rows.count == 7)
        #expect(policy.warnings.isEmpty)
    }

    @Test("GRANT forms: privilege lists, column lists, object types, levels, PROXY, roles")
    func grantForms() throws {
        let policy = try compile(
            """
            GRANT ALL ON *.* TO a@'%' IDENTIFIED BY 'x';
            GRANT ALL PRIVILEGES ON * TO a;
            GRANT SELECT, INSERT, CREATE TEMPORARY TABLES ON db.* TO a;
            GRANT SELECT (c1, `c2`), UPDATE(c3) ON `db`.`t` TO a;
            GRANT SELECT ON TABLE db.t TO a;
            GRANT SELECT ON t TO a;
            GRANT EXECUTE ON FUNCTION db.f TO a;
            GRANT EXECUTE ON PROCEDURE db.p TO a;
            GRANT EXECUTE ON PACKAGE db.pk TO a;
            GRANT EXECUTE ON PACKAGE BODY db.pk TO a;
            GRANT PROXY ON 'b'@'localhost' TO a WITH GRANT OPTION;
            GRANT USAGE ON *.* TO a REQUIRE SSL WITH GRANT OPTION MAX_USER_CONNECTIONS 3;
            CREATE ROLE r1;
            GRANT r1 TO a WITH ADMIN OPTION;
            GRANT 'r1' TO a;
            """
        )
        #expect(policy.accountNames == ["'a'@'%'"])
        #expect(policy.requirement("a", "%") == .ssl)
    }

    @Test("statements accepted and ignored; empty statements; last statement without ';'")
    func ignoredStatements() throws {
        let policy = try compile(
            """
            ;;
            /*!40101 SET @OLD_SQL_MODE=@@SQL_MODE */;
            CREATE ROLE IF NOT EXISTS r1, `r2` WITH ADMIN CURRENT_USER;
            CREATE OR REPLACE ROLE r3;
            DROP ROLE IF EXISTS r3;
            DROP ROLE r2;
            SET DEFAULT ROLE r1 FOR 'a'@'%';
            SET DEFAULT ROLE NONE;
            SET PASSWORD FOR 'a'@'%' = PASSWORD('x; not a statement end');
            SET PASSWORD = '*AB';
            REVOKE ALL PRIVILEGES, GRANT OPTION FROM 'a'@'%';
            REVOKE r1 FROM a;
            FLUSH PRIVILEGES;
            flush local privileges;
            CREATE USER z REQUIRE SSL
            """
        )
        #expect(policy.accountNames == ["'z'@'%'"])
    }

    @Test("adjacent string literals are joined, with a warning (10.11 itself rejects them here)")
    func adjacentLiterals() throws {
        let policy = try compile("CREATE USER a REQUIRE SUBJECT '/CN=a' \"/O=b\"\n  '/C=FI';")
        #expect(policy.requirement("a", "%") == .specified(cipher: nil, issuer: nil, subject: "/CN=a/O=b/C=FI"))
        #expect(
            policy.warnings == [
                "t.sql:1:39: adjacent string literals are joined; MariaDB 10.11 rejects this syntax here",
                "t.sql:2:3: adjacent string literals are joined; MariaDB 10.11 rejects this syntax here",
            ]
        )
    }

    @Test("string escapes in REQUIRE values: \\\\x, \\', '', \\n")
    func escapesInValues() throws {
        let policy = try compile(
            #"CREATE USER a REQUIRE SUBJECT '/CN=\\xC3\\xA9' ISSUER 'O\'Brien''s CA' CIPHER 'x\ny';"#
        )
        #expect(
            policy.requirement("a", "%")
                == .specified(cipher: "x\ny", issuer: "O'Brien's CA", subject: #"/CN=\xC3\xA9"#)
        )
    }

    @Test("empty values check nothing and NUL cuts a value, as MariaDB stores them")
    func emptyAndNULValues() throws {
        let policy = try compile(#"CREATE USER a REQUIRE CIPHER ''; CREATE USER b REQUIRE SUBJECT 'x\0y' ISSUER '';"#)
        #expect(policy.requirement("a", "%") == .specified(cipher: nil, issuer: nil, subject: nil))
        #expect(policy.requirement("b", "%") == .specified(cipher: nil, issuer: nil, subject: "x"))
        #expect(TLSRequirement.specified(cipher: nil, issuer: nil, subject: nil).description == "REQUIRE SUBJECT ''")
        #expect(policy.warnings.count == 3)
    }

    @Test("trailing spaces are dropped from names, as MariaDB's CHAR columns do")
    func trailingSpaces() throws {
        let policy = try compile("CREATE USER 'sp '@'H '; CREATE USER ' lead'@' ';")
        #expect(policy.accountNames == ["' lead'@'%'", "'sp'@'h'"])
        #expect(policy.warnings.count == 2)
        #expect(
            rejection("CREATE USER 'sp '@'h'; CREATE USER 'sp'@'h ';")?.message.hasPrefix(
                "Operation CREATE USER failed for 'sp'@'h'"
            ) == true
        )
    }
}
