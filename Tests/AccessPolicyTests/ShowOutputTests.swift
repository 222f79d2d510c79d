import Testing

@testable import AccessPolicy

/// Statements exactly as MariaDB 10.11.19 printed them (captured from a throwaway local server
/// with `mariadb --batch --raw -N -e "SHOW CREATE USER …; SHOW GRANTS FOR …"`).
@Suite("Real SHOW CREATE USER / SHOW GRANTS output of 10.11 pastes in unchanged")
struct ShowOutputTests {
    static let alice = "'/C=FI/ST=Somewhere/L=City/ O=Some Company/CN=Peter Parker/emailAddress=p.parker@marvel.com'"
    static let aliceRequirement = TLSRequirement.specified(
        cipher: "ECDHE-ECDSA-AES256-SHA384",
        issuer: "/C=FI/ST=Somewhere/L=City/ O=Some Company/CN=Peter Parker/emailAddress=p.parker@marvel.com",
        subject: "/CN=alice/O=My Dom, Inc./C=US/ST=Oregon/L=Portland"
    )

    @Test("SHOW CREATE USER with ISSUER, SUBJECT and CIPHER (10.11 prints them in that order)")
    func showCreateUserSpecified() throws {
        let text =
            "CREATE USER `alice`@`%` IDENTIFIED BY PASSWORD '*D821809F681A40A6E379B50D0463EFAE20BDD122' REQUIRE ISSUER \(Self.alice) SUBJECT '/CN=alice/O=My Dom, Inc./C=US/ST=Oregon/L=Portland' CIPHER 'ECDHE-ECDSA-AES256-SHA384'"
        let policy = try compile(text)
        #expect(policy.requirement("alice", "%") == Self.aliceRequirement)
        #expect(policy.warnings.isEmpty)
        // …and prints back byte for byte.
        #expect(text.hasSuffix(" " + Self.aliceRequirement.description))
    }

    @Test("SHOW GRANTS of the same account")
    func showGrantsSpecified() throws {
        let text =
            "GRANT USAGE ON *.* TO `alice`@`%` IDENTIFIED BY PASSWORD '*D821809F681A40A6E379B50D0463EFAE20BDD122' REQUIRE ISSUER \(Self.alice) SUBJECT '/CN=alice/O=My Dom, Inc./C=US/ST=Oregon/L=Portland' CIPHER 'ECDHE-ECDSA-AES256-SHA384'"
        let policy = try compile(text)
        #expect(policy.requirement("alice", "%") == Self.aliceRequirement)
        #expect(policy.warnings.isEmpty, "IDENTIFIED: a GRANT that creates is legitimate")
    }

    @Test("REQUIRE SSL with a resource limit, both forms")
    func requireSSLWithLimit() throws {
        let policy = try compile(
            """
            CREATE USER `bob`@`localhost` IDENTIFIED BY PASSWORD '*B69027D44F6E5EDC07F1AEAD1477967B16F28227' REQUIRE SSL WITH MAX_USER_CONNECTIONS 5;
            GRANT USAGE ON *.* TO `bob`@`localhost` IDENTIFIED BY PASSWORD '*B69027D44F6E5EDC07F1AEAD1477967B16F28227' REQUIRE SSL WITH MAX_USER_CONNECTIONS 5;
            """
        )
        #expect(policy.requirement("bob", "localhost") == .ssl)
        #expect(TLSRequirement.ssl.description == "REQUIRE SSL")
    }

    @Test("REQUIRE X509 and ISSUER + CIPHER without a password")
    func x509AndIssuerCipher() throws {
        let policy = try compile(
            """
            CREATE USER `c1`@`%` REQUIRE X509
            ;GRANT USAGE ON *.* TO `c1`@`%` REQUIRE X509;
            CREATE USER `c2`@`%` REQUIRE ISSUER '/CN=ca' CIPHER 'TLS_AES_256_GCM_SHA384';
            GRANT USAGE ON *.* TO `c2`@`%` REQUIRE ISSUER '/CN=ca' CIPHER 'TLS_AES_256_GCM_SHA384'
            """
        )
        #expect(policy.requirement("c1", "%") == .x509)
        let c2 = TLSRequirement.specified(cipher: "TLS_AES_256_GCM_SHA384", issuer: "/CN=ca", subject: nil)
        #expect(policy.requirement("c2", "%") == c2)
        #expect(c2.description == "REQUIRE ISSUER '/CN=ca' CIPHER 'TLS_AES_256_GCM_SHA384'")
    }

    @Test("a non-ASCII subject in OpenSSL's \\xNN form round-trips through SHOW CREATE USER's quoting")
    func nonASCIISubjectRoundTrip() throws {
        // Created with: REQUIRE SUBJECT '/CN=J\\xC3\\xBCrgen/O=it''s "q"' PASSWORD EXPIRE INTERVAL 30 DAY ACCOUNT LOCK
        let shown =
            #"CREATE USER `c3`@`%` REQUIRE SUBJECT '/CN=J\\xC3\\xBCrgen/O=it''s "q"' ACCOUNT LOCK PASSWORD EXPIRE INTERVAL 30 DAY"#
        let policy = try compile(shown)
        let expected = TLSRequirement.specified(cipher: nil, issuer: nil, subject: #"/CN=J\xC3\xBCrgen/O=it's "q""#)
        #expect(policy.requirement("c3", "%") == expected)
        #expect(expected.description == #"REQUIRE SUBJECT '/CN=J\\xC3\\xBCrgen/O=it''s "q"'"#)
        // The original statement gives the same account.
        let original = try compile(
            #"CREATE USER 'c3'@'%' REQUIRE SUBJECT '/CN=J\\xC3\\xBCrgen/O=it''s "q"' PASSWORD EXPIRE INTERVAL 30 DAY ACCOUNT LOCK"#
        )
        #expect(original.requirement("c3", "%") == expected)
    }

    @Test("control characters print as SHOW CREATE USER does: \\n and \\r escaped, tab and ^Z raw")
    func controlCharacterQuoting() {
        // 10.11 printed: CREATE USER `c5`@`%` REQUIRE SUBJECT 'a\nb<TAB>c\rd<^Z>e'
        let requirement = TLSRequirement.specified(cipher: nil, issuer: nil, subject: "a\nb\tc\rd\u{1A}e")
        #expect(requirement.description == "REQUIRE SUBJECT 'a\\nb\tc\\rd\u{1A}e'")
    }

    @Test("empty SPECIFIED values: 10.11 prints a bare REQUIRE once it has reloaded them")
    func bareRequire() throws {
        // After `CREATE USER c6 REQUIRE CIPHER ''` and a restart, SHOW CREATE USER and
        // mariadb-dump print exactly this (and the server lets TLS without a certificate in).
        let policy = try compile(
            """
            CREATE USER `c6`@`%` REQUIRE ;
            CREATE USER `c7`@`%` REQUIRE  WITH MAX_USER_CONNECTIONS 2;
            GRANT USAGE ON *.* TO `c8`@`%` REQUIRE
            """
        )
        let empty = TLSRequirement.specified(cipher: nil, issuer: nil, subject: nil)
        #expect(policy.requirement("c6", "%") == empty)
        #expect(policy.requirement("c7", "%") == empty)
        #expect(policy.requirement("c8", "%") == empty)
        #expect(
            policy.warnings.first
                == "t.sql:1:22: REQUIRE without an option (as SHOW CREATE USER prints empty ISSUER/SUBJECT/CIPHER values) is read as REQUIRE SUBJECT ''; MariaDB itself rejects this syntax"
        )
    }

    @Test("CREATE USER lines of mariadb-dump --system=users")
    func mariadbDumpCreateUsers() throws {
        let policy = try compile(
            """
            /*M!999999\\- enable the sandbox mode */
            /*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */;
            /*!40101 SET NAMES utf8mb4 */;
            CREATE USER `mariadb.sys`@`localhost` ACCOUNT LOCK PASSWORD EXPIRE;
            CREATE USER `root`@`localhost`;
            CREATE USER `root`@`127.0.0.1`;
            CREATE USER `root`@`::1`;
            CREATE USER `c2`@`%` IDENTIFIED BY PASSWORD '*B69027D44F6E5EDC07F1AEAD1477967B16F28227' REQUIRE SSL WITH MAX_USER_CONNECTIONS 3 PASSWORD EXPIRE;
            CREATE USER `c5`@`%` REQUIRE SUBJECT 'a\\nb	c\\rde';
            CREATE USER `c8`@`%` REQUIRE ISSUER 'dq"x"y''z';
            CREATE USER ``@`h18`;
            CREATE USER `h23`@`with``tick`;
            CREATE USER `h24`@`q'x`;
            CREATE USER `IDENTIFIED`@`kwtest`;
            /*M!100005 GRANT 'app_ro' TO 'root'@'localhost' WITH ADMIN OPTION */;
            GRANT PROXY ON ``@`%` TO `root`@`localhost` WITH GRANT OPTION;
            /*M!100005 SET DEFAULT ROLE NONE FOR 'root'@'localhost' */;
            /*!80001 ALTER USER 'root'@'localhost' DEFAULT ROLE NONE */;
            GRANT USAGE ON *.* TO `c2`@`%` IDENTIFIED BY PASSWORD '*B69027D44F6E5EDC07F1AEAD1477967B16F28227' REQUIRE SSL WITH GRANT OPTION MAX_USER_CONNECTIONS 3;
            """
        )
        #expect(policy.rows.count == 11)
        #expect(policy.requirement("c5", "%") == .specified(cipher: nil, issuer: nil, subject: "a\nb\tc\rde"))
        #expect(policy.requirement("c8", "%") == .specified(cipher: nil, issuer: #"dq"x"y'z"#, subject: nil))
        #expect(policy.row("h24", "q'x") != nil)
        #expect(policy.row("", "h18") != nil)
        #expect(policy.warnings.isEmpty)
    }

    @Test("a full SHOW GRANTS listing: column, routine, role, proxy and default-role lines")
    func fullShowGrants() throws {
        let policy = try compile(
            """
            CREATE ROLE app_ro;
            GRANT USAGE ON *.* TO `app_ro`;
            GRANT SELECT ON `shop`.* TO `app_ro`;
            CREATE USER `carol`@`10.0.%` IDENTIFIED VIA unix_socket OR mysql_native_password USING '*D821809F681A40A6E379B50D0463EFAE20BDD122' REQUIRE X509 WITH MAX_CONNECTIONS_PER_HOUR 20 MAX_STATEMENT_TIME 2.500000 ACCOUNT LOCK PASSWORD EXPIRE NEVER;
            GRANT `app_ro` TO `carol`@`10.0.%` WITH ADMIN OPTION;
            GRANT USAGE ON *.* TO `carol`@`10.0.%` IDENTIFIED VIA unix_socket OR mysql_native_password USING '*D821809F681A40A6E379B50D0463EFAE20BDD122' REQUIRE X509 WITH MAX_CONNECTIONS_PER_HOUR 20 MAX_STATEMENT_TIME 2.500000;
            GRANT INSERT, DELETE ON `shop`.* TO `carol`@`10.0.%` WITH GRANT OPTION;
            GRANT SELECT (`id`, `total`), UPDATE (`note`) ON `shop`.`orders` TO `carol`@`10.0.%`;
            GRANT EXECUTE ON PROCEDURE `shop`.`p1` TO `carol`@`10.0.%`;
            GRANT EXECUTE ON FUNCTION `shop`.`f1` TO `carol`@`10.0.%`;
            GRANT PROXY ON ``@`%` TO `carol`@`10.0.%`;
            SET DEFAULT ROLE `app_ro` FOR `carol`@`10.0.%`;
            GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, REFERENCES, INDEX, ALTER, CREATE TEMPORARY TABLES, LOCK TABLES, CREATE VIEW, SHOW VIEW, CREATE ROUTINE, EVENT, TRIGGER, DELETE HISTORY ON `test\\_%`.* TO PUBLIC;
            GRANT `app_ro` TO `root`@`localhost` WITH ADMIN OPTION;
            GRANT ALL PRIVILEGES ON *.* TO `root`@`localhost` WITH GRANT OPTION;
            GRANT PROXY ON ``@`%` TO `root`@`localhost` WITH GRANT OPTION;
            CREATE USER `mariadb.sys`@`localhost` ACCOUNT LOCK PASSWORD EXPIRE;
            GRANT USAGE ON *.* TO `mariadb.sys`@`localhost`;
            GRANT SELECT, DELETE ON `mysql`.`global_priv` TO `mariadb.sys`@`localhost`;
            """
        )
        // The role and PUBLIC are not accounts; GRANT created root@localhost.
        #expect(policy.accountNames == ["'carol'@'10.0.%'", "'mariadb.sys'@'localhost'", "'root'@'localhost'"])
        #expect(policy.requirement("carol", "10.0.%") == .x509)
        #expect(policy.requirement("root", "localhost") == TLSRequirement.none)
        #expect(
            policy.warnings == [
                "t.sql:15:32: GRANT creates account 'root'@'localhost' (MariaDB does so only without NO_AUTO_CREATE_USER, which its default sql_mode sets)"
            ]
        )
    }

    @Test("the seed file config/accounts.sql")
    func seedFile() throws {
        let policy = try compile(
            """
            -- mariadb-tls-proxy accounts file: per-account TLS requirements in MariaDB's own SQL.
            CREATE USER 'alice'@'localhost'
              REQUIRE NONE;

            CREATE USER 'alice'@'%'
              REQUIRE SUBJECT '/CN=alice/O=My Dom, Inc./C=US/ST=Oregon/L=Portland'
              AND ISSUER '/C=FI/ST=Somewhere/L=City/ O=Some Company/CN=Peter Parker/emailAddress=p.parker@marvel.com'
              AND CIPHER 'ECDHE-ECDSA-AES256-SHA384';

            -- Any TLS connection.
            CREATE USER 'reporting'@'%' REQUIRE SSL;
            CREATE USER 'batch'@'10.0.%' REQUIRE X509;
            CREATE USER 'legacy_app'@'%' REQUIRE CIPHER 'ECDHE-RSA-AES256-GCM-SHA384';
            ALTER USER 'reporting'@'%' REQUIRE X509;
            """
        )
        #expect(
            policy.accountNames == [
                "'alice'@'localhost'", "'alice'@'%'", "'batch'@'10.0.%'", "'legacy_app'@'%'", "'reporting'@'%'",
            ]
        )
        #expect(policy.requirement("alice", "%") == Self.aliceRequirement)
        #expect(policy.requirement("reporting", "%") == .x509)
        #expect(policy.row("reporting", "%")?.definedAt == SourceLocation(file: "t.sql", line: 14, column: 12))
        #expect(policy.warnings.isEmpty)
    }
}
