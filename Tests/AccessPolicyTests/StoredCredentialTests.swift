import Testing

@testable import AccessPolicy

/// Expected values computed independently with Python's hashlib and base64.
@Suite("Accounts file: stored credentials from IDENTIFIED clauses")
struct StoredCredentialTests {
    /// SHA1(SHA1("secret")), as `SHOW CREATE USER` prints it.
    static let nativeHash = "*14E65567ABDB5135D0CFD9A70B3032C179A49EE7"
    static let nativeBytes: [UInt8] = [
        0x14, 0xE6, 0x55, 0x67, 0xAB, 0xDB, 0x51, 0x35, 0xD0, 0xCF, 0xD9, 0xA7, 0x0B, 0x30, 0x32, 0xC1, 0x79, 0xA4,
        0x9E, 0xE7,
    ]
    /// base64 of the bytes 100…131 without padding.
    static let ed25519Key = "ZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7fH1+f4CBgoM"
    static let ed25519Bytes = Array(UInt8(100)...UInt8(131))
    /// Iterations 2, salt = bytes 200…217, key = bytes 100…131.
    static let parsec = "P2:yMnKy8zNzs/Q0dLT1NXW19jZ:ZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7fH1+f4CBgoM"
    static let parsecBytes: [UInt8] =
        [UInt8(ascii: "P"), 2] + Array(UInt8(200)...UInt8(217)) + Array(UInt8(100)...UInt8(131))

    func credentials(_ text: String, _ user: String, _ host: String = "%") throws -> [StoredCredential]? {
        try compile(text).row(user, host)?.credentials
    }

    @Test("every SHOW CREATE USER form: BY PASSWORD, VIA native/ed25519/parsec USING, WITH … AS, other plugins")
    func pluginForms() throws {
        let native = StoredCredential(plugin: "mysql_native_password", salt: Self.nativeBytes)
        #expect(try credentials("CREATE USER a IDENTIFIED BY PASSWORD '\(Self.nativeHash)';", "a") == [native])
        #expect(
            try credentials("CREATE USER a IDENTIFIED BY PASSWORD '\(Self.nativeHash.lowercased())';", "a") == [native]
        )
        #expect(
            try credentials("CREATE USER a IDENTIFIED VIA mysql_native_password USING '\(Self.nativeHash)';", "a") == [
                native
            ]
        )
        #expect(
            try credentials("CREATE USER a IDENTIFIED WITH Mysql_Native_Password AS '\(Self.nativeHash)';", "a") == [
                native
            ]
        )
        #expect(
            try credentials("CREATE USER a IDENTIFIED VIA ed25519 USING '\(Self.ed25519Key)';", "a")
                == [StoredCredential(plugin: "ed25519", salt: Self.ed25519Bytes)]
        )
        #expect(
            try credentials("CREATE USER a IDENTIFIED VIA parsec USING '\(Self.parsec)';", "a")
                == [StoredCredential(plugin: "parsec", salt: Self.parsecBytes)]
        )
        #expect(
            try credentials("CREATE USER a IDENTIFIED VIA pam USING 'mariadb';", "a")
                == [StoredCredential(plugin: "pam", salt: Array("mariadb".utf8))]
        )
        #expect(
            try credentials("CREATE USER a IDENTIFIED VIA unix_socket;", "a") == [
                StoredCredential(plugin: "unix_socket", salt: [])
            ]
        )
        #expect(
            try credentials("CREATE USER a IDENTIFIED VIA mysql_native_password USING '';", "a")
                == [StoredCredential(plugin: "mysql_native_password", salt: [])]
        )
        #expect(try credentials("CREATE USER a;", "a") == [])
        // MariaDB reads 'invalid' and a 41-character string that is not hex as a password nothing matches.
        let invalid = StoredCredential(plugin: "mysql_native_password", salt: nil)
        #expect(
            try credentials("CREATE USER a IDENTIFIED VIA mysql_native_password USING 'invalid' OR unix_socket;", "a")
                == [invalid, StoredCredential(plugin: "unix_socket", salt: [])]
        )
        #expect(
            try credentials("CREATE USER a IDENTIFIED BY PASSWORD '*14E65567ABDB5135D0CFD9A70B3032C179A49EEZ';", "a")
                == [invalid]
        )
        #expect(
            try credentials("CREATE USER a IDENTIFIED BY PASSWORD '378b243e220ca493';", "a")
                == [StoredCredential(plugin: "mysql_old_password", salt: Array("378b243e220ca493".utf8))]
        )
    }

    @Test("OR lists keep every method in order; plaintext passwords are not kept")
    func orListsAndPlaintext() throws {
        let text =
            "CREATE USER m IDENTIFIED VIA ed25519 USING PASSWORD('x') OR mysql_native_password USING '\(Self.nativeHash)' OR unix_socket OR ed25519 USING '\(Self.ed25519Key)';"
        #expect(
            try credentials(text, "m") == [
                StoredCredential(plugin: "ed25519", salt: nil),
                StoredCredential(plugin: "mysql_native_password", salt: Self.nativeBytes),
                StoredCredential(plugin: "unix_socket", salt: []),
                StoredCredential(plugin: "ed25519", salt: Self.ed25519Bytes),
            ]
        )
        let plain = try compile("CREATE USER p IDENTIFIED BY 'secret';")
        #expect(plain.row("p", "%")?.credentials == [StoredCredential(plugin: "mysql_native_password", salt: nil)])
        #expect(plain.warnings.isEmpty)
        #expect(!"\(plain.rows)".contains("secret"))
    }

    @Test("the description never shows a credential")
    func descriptionHidesCredential() {
        let credential = StoredCredential(plugin: "mysql_native_password", salt: Self.nativeBytes)
        #expect(credential.description == "mysql_native_password (credential not shown)")
        #expect(!"\(credential)".contains("14"))
    }

    @Test(
        "ALTER USER and GRANT with IDENTIFIED replace; without IDENTIFIED they keep; RENAME keeps; CREATE OR REPLACE replaces"
    )
    func replacement() throws {
        let native = StoredCredential(plugin: "mysql_native_password", salt: Self.nativeBytes)
        let ed = StoredCredential(plugin: "ed25519", salt: Self.ed25519Bytes)
        let policy = try compile(
            """
            CREATE USER a IDENTIFIED BY PASSWORD '\(Self.nativeHash)';
            ALTER USER a REQUIRE SSL;
            CREATE USER b IDENTIFIED BY PASSWORD '\(Self.nativeHash)';
            ALTER USER b IDENTIFIED VIA ed25519 USING '\(Self.ed25519Key)';
            CREATE USER c IDENTIFIED BY PASSWORD '\(Self.nativeHash)';
            GRANT SELECT ON *.* TO c IDENTIFIED VIA ed25519 USING '\(Self.ed25519Key)';
            GRANT SELECT ON db.* TO c;
            CREATE USER d IDENTIFIED BY PASSWORD '\(Self.nativeHash)';
            RENAME USER d TO e;
            CREATE USER f IDENTIFIED BY PASSWORD '\(Self.nativeHash)';
            CREATE OR REPLACE USER f;
            CREATE USER g IDENTIFIED BY PASSWORD '\(Self.nativeHash)';
            ALTER USER g IDENTIFIED BY 'plaintext';
            GRANT USAGE ON *.* TO h IDENTIFIED BY PASSWORD '\(Self.nativeHash)';
            """
        )
        #expect(policy.row("a", "%")?.credentials == [native])
        #expect(policy.row("a", "%")?.requirement == .ssl)
        #expect(policy.row("b", "%")?.credentials == [ed])
        #expect(policy.row("c", "%")?.credentials == [ed])
        #expect(policy.row("e", "%")?.credentials == [native])
        #expect(policy.row("f", "%")?.credentials == [])
        #expect(policy.row("g", "%")?.credentials == [StoredCredential(plugin: "mysql_native_password", salt: nil)])
        #expect(policy.row("h", "%")?.credentials == [native])
    }

    @Test(
        "a malformed credential is an error that shows neither it nor what follows",
        arguments: [
            ("CREATE USER a IDENTIFIED BY PASSWORD 'secret';", "mysql_native_password hash"),
            ("CREATE USER a IDENTIFIED VIA mysql_native_password USING 'secret12';", "mysql_native_password hash"),
            ("CREATE USER a IDENTIFIED VIA ed25519 USING 'secret';", "ed25519 public key"),
            (
                "CREATE USER a IDENTIFIED VIA ed25519 USING 'ZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7fH1+f4CBgoN';",
                "ed25519 public key"
            ),
            (
                "CREATE USER a IDENTIFIED VIA ed25519 USING 'ZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7fH1+f4CBgo=';",
                "ed25519 public key"
            ),
            (
                "CREATE USER a IDENTIFIED VIA parsec USING 'P4:yMnKy8zNzs/Q0dLT1NXW19jZ:ZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7fH1+f4CBgoM';",
                "parsec credential"
            ),
            ("CREATE USER a IDENTIFIED VIA parsec USING 'Psecret';", "parsec credential"),
        ]
    )
    func malformed(text: String, what: String) throws {
        let error = try #require(rejection(text))
        #expect(error.message.contains(what), "\(error)")
        #expect(error.message.hasSuffix("(the string is not shown)"))
        #expect(
            !error.message.contains("secret") && !error.message.contains("ZGVm") && !error.message.contains("*14E6"),
            "\(error)"
        )
        #expect(error.location.line == 1 && error.location.column > 30)
    }
}
