import Testing

@testable import AccessPolicy

@Suite("Account SQL parser: errors name file:line:column and what was expected")
struct AccountSQLParserErrorTests {
    private func expectError(
        _ text: String,
        _ line: Int,
        _ column: Int,
        _ message: String,
        sourceLocation: Testing.SourceLocation = #_sourceLocation
    ) {
        let error = rejection(text)
        #expect(
            error == PolicyParseError(location: .init(file: "t.sql", line: line, column: column), message: message),
            sourceLocation: sourceLocation
        )
    }

    @Test("the description is file:line:column: message")
    func descriptionFormat() {
        let error = PolicyParseError(
            location: .init(file: "/etc/p/accounts.sql", line: 3, column: 7),
            message: "expected X"
        )
        #expect(error.description == "/etc/p/accounts.sql:3:7: expected X")
    }

    @Test("duplicate tls_option is MariaDB's ER_DUP_ARGUMENT")
    func duplicateOption() {
        expectError("CREATE USER a REQUIRE SUBJECT 'x' SUBJECT 'y';", 1, 35, "Option 'SUBJECT' used twice in statement")
        expectError(
            "CREATE USER a REQUIRE cipher 'x' AND issuer 'i'\n AND CIPHER 'y';",
            2,
            6,
            "Option 'CIPHER' used twice in statement"
        )
    }

    @Test("malformed REQUIRE clauses")
    func badRequire() {
        expectError(
            "CREATE USER a REQUIRE 'x';",
            1,
            23,
            "expected NONE, SSL, X509, SUBJECT, ISSUER or CIPHER after REQUIRE, found a string literal"
        )
        expectError(
            "CREATE USER a REQUIRE SUBJECT 'x' AND AND ISSUER 'y';",
            1,
            39,
            "expected SUBJECT, ISSUER or CIPHER after AND, found 'AND'"
        )
        expectError(
            "CREATE USER a REQUIRE SUBJECT 'x' AND",
            1,
            38,
            "expected SUBJECT, ISSUER or CIPHER after AND, found end of file"
        )
        expectError("CREATE USER a REQUIRE SSL AND X509;", 1, 27, "expected ';' to end the statement, found 'AND'")
        expectError("CREATE USER a REQUIRE SUBJECT x;", 1, 31, "expected a string after SUBJECT, found 'x'")
        expectError(
            "CREATE USER a REQUIRE SUBJECT 'x' REQUIRE SSL;",
            1,
            35,
            "expected ';' to end the statement, found 'REQUIRE'"
        )
    }

    @Test("clause order is MariaDB's: auth, REQUIRE, WITH, lock/expire")
    func clauseOrder() {
        expectError(
            "CREATE USER c REQUIRE SSL IDENTIFIED BY 'x';",
            1,
            27,
            "expected ';' to end the statement, found 'IDENTIFIED'"
        )
        expectError(
            "ALTER USER c WITH MAX_USER_CONNECTIONS 4 REQUIRE SSL;",
            1,
            42,
            "expected ';' to end the statement, found 'REQUIRE'"
        )
        expectError(
            "CREATE USER c WITH GRANT OPTION;",
            1,
            20,
            "expected MAX_QUERIES_PER_HOUR, MAX_UPDATES_PER_HOUR, MAX_CONNECTIONS_PER_HOUR, MAX_USER_CONNECTIONS or MAX_STATEMENT_TIME after WITH, found 'GRANT'"
        )
        expectError(
            "CREATE USER c ACCOUNT LOCK ACCOUNT UNLOCK;",
            1,
            28,
            "expected ';' to end the statement, found 'ACCOUNT'"
        )
        expectError(
            "CREATE USER c PASSWORD EXPIRE INTERVAL x DAY;",
            1,
            40,
            "expected a number after INTERVAL, found 'x'"
        )
    }

    @Test("errors never show a password or authentication string, nor the token after it")
    func secretsAreNotEchoed() {
        let hidden = "(not shown: it may be part of a password)"
        expectError(
            "CREATE USER a IDENTIFIED BY 'secret' REQUIRE BOGUS;",
            1,
            46,
            "expected NONE, SSL, X509, SUBJECT, ISSUER or CIPHER after REQUIRE, found 'BOGUS'"
        )
        expectError(
            "CREATE USER a IDENTIFIED BY 'secret' 'more' ,;",
            1,
            46,
            "expected an account name ('user'@'host', `user`@`host` or user@host), found ';'"
        )
        // A password with an unescaped quote: the rest of it must not appear.
        expectError(
            "CREATE USER a IDENTIFIED BY 'pa'ss 'word';",
            1,
            33,
            "expected ';' to end the statement, found a word \(hidden)"
        )
        expectError(
            "CREATE USER a IDENTIFIED BY 'secret' x7Kq;",
            1,
            38,
            "expected ';' to end the statement, found a word \(hidden)"
        )
        expectError(
            "CREATE USER a IDENTIFIED BY hunter2;",
            1,
            29,
            "expected a password string after IDENTIFIED BY, found a word \(hidden)"
        )
        expectError(
            "CREATE USER a IDENTIFIED BY PASSWORD *94BDCEBE19083CE2A1F959FD02F964C7AF4CFC29;",
            1,
            38,
            "expected a password string after IDENTIFIED BY, found a symbol \(hidden)"
        )
        expectError(
            "CREATE USER a IDENTIFIED BY PASSWORD '*94BDCEBE19083CE2A1F959FD02F964C7AF4CFC29' 12345;",
            1,
            82,
            "expected ';' to end the statement, found a number \(hidden)"
        )
        expectError(
            "CREATE USER a IDENTIFIED VIA ed25519 USING 'ZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7fH1+f4CBgoM' ed;",
            1,
            90,
            "expected ';' to end the statement, found a word \(hidden)"
        )
        expectError(
            "CREATE USER a IDENTIFIED VIA ed25519 AS s3cr3t;",
            1,
            41,
            "expected an authentication string after USING or AS, found a word \(hidden)"
        )
        expectError(
            "CREATE USER a IDENTIFIED VIA ed25519 USING PASSWORD('pw' junk);",
            1,
            58,
            "expected ')' to close PASSWORD(…), found a word \(hidden)"
        )
        expectError(
            "GRANT USAGE ON *.* TO a IDENTIFIED BY 'secret' oops;",
            1,
            48,
            "expected ';' to end the statement, found a word \(hidden)"
        )
    }

    @Test("no error message contains the text of a string literal")
    func stringLiteralsAreNotEchoed() {
        for text in [
            "CREATE USER a IDENTIFIED BY 'secret' 'secret2' REQUIRE 'secret3';",
            "CREATE USER a REQUIRE SUBJECT 'secret' ISSUER 'secret3' SUBJECT 'secret4';",
            "CREATE USER 'secret' 'secret2';",
            "CREATE USER a IDENTIFIED BY 'secret' WITH 'secret2';",
            "GRANT 'secret' ON *.* TO a;",
        ] {
            let error = rejection(text)
            #expect(error != nil, "\(text) was accepted")
            #expect(error?.message.contains("secret") == false, "\(text): \(error?.message ?? "")")
        }
    }

    @Test("account syntax, as 10.11 rejects it")
    func accountSyntax() {
        // A blank after '@' is an empty host name (so '%'), then the quoted host is unexpected.
        expectError("CREATE USER 'h5' @ 'x';", 1, 20, "expected ';' to end the statement, found a string literal")
        expectError("CREATE USER h2@my-host.com;", 1, 18, "expected ';' to end the statement, found '-'")
        expectError("CREATE USER h8@%;", 1, 16, "expected ';' to end the statement, found '%'")
        expectError("CREATE USER h9@`a`@b;", 1, 19, "expected ';' to end the statement, found '@'")
        expectError(
            "CREATE USER select@x;",
            1,
            13,
            "expected an account name ('user'@'host', `user`@`host` or user@host), found 'select'"
        )
        expectError("CREATE USER 'a' 'b'@'%';", 1, 17, "expected ';' to end the statement, found a string literal")
        expectError(
            "CREATE USER 123@x;",
            1,
            13,
            "expected an account name ('user'@'host', `user`@`host` or user@host), found '123'"
        )
        expectError("CREATE USER 'h14'@'a@b';", 1, 19, "Malformed hostname (illegal symbol: '@')")
        expectError(
            "ALTER USER CURRENT_USER REQUIRE SSL;",
            1,
            12,
            "CURRENT_USER cannot be resolved in a policy file; name the account as 'user'@'host'"
        )
        expectError(
            "CREATE USER a,;",
            1,
            15,
            "expected an account name ('user'@'host', `user`@`host` or user@host), found ';'"
        )
    }

    @Test("name length limits: 128 characters of user, 255 bytes of host")
    func lengthLimits() throws {
        let user128 = String(repeating: "ä", count: 128)
        let host255 = String(repeating: "a", count: 255)
        let policy = try compile("CREATE USER '\(user128)'@'\(host255)';")
        #expect(policy.rows.count == 1)
        let user129 = String(repeating: "u", count: 129)
        #expect(
            rejection("CREATE USER '\(user129)';")?.message
                == "String '\(String(repeating: "u", count: 64))...' is too long for user name (should be no longer than 128)"
        )
        let host128 = String(repeating: "ä", count: 128)  // 256 bytes
        #expect(
            rejection("CREATE USER u@'\(host128)';")?.message.hasSuffix(
                "is too long for host name (should be no longer than 255)"
            ) == true
        )
    }

    @Test("unknown statements and unsupported forms")
    func unknownStatements() {
        expectError(
            "USE mysql;",
            1,
            1,
            "expected CREATE USER, ALTER USER, GRANT, DROP USER, RENAME USER, REVOKE, CREATE/DROP ROLE, SET DEFAULT ROLE, SET PASSWORD or FLUSH PRIVILEGES at the start of a statement, found 'USE'"
        )
        expectError("CREATE TABLE t (a int);", 1, 8, "expected USER or ROLE after CREATE, found 'TABLE'")
        expectError("ALTER TABLE t;", 1, 7, "expected USER after ALTER (only ALTER USER is supported), found 'TABLE'")
        expectError("SET NAMES utf8;", 1, 5, "expected DEFAULT ROLE or PASSWORD after SET, found 'NAMES'")
        expectError(
            "FLUSH TABLES;",
            1,
            7,
            "expected PRIVILEGES after FLUSH (only FLUSH PRIVILEGES is accepted), found 'TABLES'"
        )
        expectError("CREATE USER a CREATE USER b;", 1, 15, "expected ';' to end the statement, found 'CREATE'")
        expectError("CREATE OR REPLACE USER IF NOT EXISTS a;", 1, 1, "Incorrect usage of OR REPLACE and IF NOT EXISTS")
        expectError("CREATE USER IF EXISTS a;", 1, 16, "expected NOT after IF, found 'EXISTS'")
        expectError(
            "--x\nCREATE USER a;",
            1,
            1,
            "expected CREATE USER, ALTER USER, GRANT, DROP USER, RENAME USER, REVOKE, CREATE/DROP ROLE, SET DEFAULT ROLE, SET PASSWORD or FLUSH PRIVILEGES at the start of a statement, found '-'"
        )
    }

    @Test("malformed GRANT statements")
    func badGrant() {
        expectError("GRANT SELECT db.* TO a;", 1, 16, "expected ON or TO after the privilege list, found '.'")
        expectError("GRANT SELECT ON db.* a;", 1, 22, "expected TO after the privilege level, found 'a'")
        expectError(
            "GRANT r1, r2 TO a;",
            1,
            11,
            "expected ON after the privilege list (a role grant names exactly one role)"
        )
        expectError("GRANT 'x' ON *.* TO a;", 1, 7, "expected a privilege name such as SELECT or ALL PRIVILEGES")
        expectError("GRANT SELECT (a ON t TO b;", 1, 17, "expected ')' to close the column list, found 'ON'")
        expectError(
            "GRANT USAGE ON *.* TO a WITH ADMIN OPTION;",
            1,
            30,
            "expected GRANT OPTION or a MAX_… resource limit after WITH, found 'ADMIN'"
        )
        expectError("GRANT r1 TO a WITH GRANT OPTION;", 1, 20, "expected ADMIN after WITH, found 'GRANT'")
        expectError("GRANT PROXY ON a TO b REQUIRE SSL;", 1, 23, "expected ';' to end the statement, found 'REQUIRE'")
        expectError("GRANT USAGE ON *. TO a;", 1, 19, "expected '*' after '*.', found 'TO'")
    }

    @Test("semantic errors point at the account")
    func semanticErrors() {
        expectError(
            "CREATE USER a;\nCREATE USER b, 'a'@'%';",
            2,
            16,
            "Operation CREATE USER failed for 'a'@'%': the account already exists (use CREATE OR REPLACE USER, CREATE USER IF NOT EXISTS or ALTER USER)"
        )
        expectError(
            "DROP USER\n  nobody@localhost;",
            2,
            3,
            "Operation DROP USER failed for 'nobody'@'localhost': no such account"
        )
        expectError("RENAME USER a TO b;", 1, 13, "Operation RENAME USER failed for 'a'@'%': no such account")
        expectError(
            "CREATE USER a, b; RENAME USER a TO b;",
            1,
            36,
            "Operation RENAME USER failed for 'a'@'%': 'b'@'%' already exists"
        )
    }

    @Test("load(): an unreadable file is an error at path:0:0")
    func unreadableFile() {
        do {
            _ = try AccessPolicy.load(path: "/nonexistent/accounts.sql")
            Issue.record("expected an error")
        } catch {
            #expect(error.location == SourceLocation(file: "/nonexistent/accounts.sql", line: 0, column: 0))
            #expect(error.message.hasPrefix("cannot open the policy file"))
            #expect(error.description.hasPrefix("/nonexistent/accounts.sql:0:0: cannot open"))
        }
    }
}
