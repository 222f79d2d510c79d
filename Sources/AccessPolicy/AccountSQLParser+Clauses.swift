extension AccountSQLParser {
    // MARK: Names and accounts

    /// `ident_or_text`: a bare word that is not a reserved word, a backquoted identifier, or a
    /// string literal.
    mutating func parseName(what: String) throws(PolicyParseError) -> SQLToken {
        let token = current
        switch token.kind {
        case .word where !ReservedWords.contains(token.text):
            advance()
            return token
        case .quotedIdentifier, .string:
            advance()
            return token
        default:
            throw fail(expected: what)
        }
    }

    /// `user` or `user@host` in any quoting, normalised as MariaDB's parser and its CHAR
    /// columns do: host lower-cased, `''` meaning `%`, trailing spaces dropped, limits checked.
    mutating func parseAccount() throws(PolicyParseError) -> AccountReference {
        if current.isKeyword("CURRENT_USER") || current.isKeyword("CURRENT_ROLE") {
            throw fail(
                "\(current.text.uppercased()) cannot be resolved in a policy file; name the account as 'user'@'host'",
                at: current
            )
        }
        let userToken = try parseName(what: "an account name ('user'@'host', `user`@`host` or user@host)")
        var hostToken: SQLToken?
        if acceptSymbol("@") {
            switch current.kind {
            case .hostname, .quotedIdentifier, .string:
                hostToken = current
                advance()
            default:
                throw fail(expected: "a host name after '@'")
            }
        }
        let rawUser = userToken.text
        if rawUser.utf8.contains(0) { throw fail("a user name cannot contain a NUL character", at: userToken) }
        if rawUser.unicodeScalars.count > 128 {
            throw fail(
                "String '\(rawUser.prefix(64))...' is too long for user name (should be no longer than 128)",
                at: userToken
            )
        }
        let user = Self.droppingTrailingSpaces(rawUser)
        var host: String?
        var droppedSpaces = user.utf8.count != rawUser.utf8.count
        if let hostToken {
            let raw = hostToken.text
            if raw.utf8.contains(0) { throw fail("a host name cannot contain a NUL character", at: hostToken) }
            if raw.utf8.contains(UInt8(ascii: "@")) {
                throw fail("Malformed hostname (illegal symbol: '@')", at: hostToken)
            }
            if raw.utf8.count > 255 {
                throw fail(
                    "String '\(raw.prefix(64))...' is too long for host name (should be no longer than 255)",
                    at: hostToken
                )
            }
            let lowered = Self.lowercasedHost(raw)
            let stripped = Self.droppingTrailingSpaces(lowered)
            if stripped.utf8.count != lowered.utf8.count { droppedSpaces = true }
            host = stripped.isEmpty ? "%" : stripped
        }
        if droppedSpaces {
            let written = hostToken.map { "'\(rawUser)'@'\($0.text)'" } ?? "'\(rawUser)'"
            warnings.append(
                "\(location(of: userToken)): trailing spaces of \(written) are dropped, as MariaDB's CHAR columns store it"
            )
        }
        return AccountReference(
            user: user,
            host: host,
            hasAuthentication: false,
            credentials: nil,
            isBarePublic: hostToken == nil && userToken.isKeyword("PUBLIC"),
            location: location(of: userToken)
        )
    }

    /// `grant_list`: accounts, each optionally followed by IDENTIFIED ….
    mutating func parseGrantList() throws(PolicyParseError) -> [AccountReference] {
        var accounts: [AccountReference] = []
        repeat {
            var account = try parseAccount()
            if accept("IDENTIFIED") {
                account.credentials = try parseAuthentication()
                account.hasAuthentication = true
            }
            accounts.append(account)
        } while acceptSymbol(",")
        return accounts
    }

    /// `IDENTIFIED BY [PASSWORD] 'x'` or `IDENTIFIED {VIA|WITH} plugin [{USING|AS} 'x' |
    /// {USING|AS} PASSWORD('x')] [OR plugin …]`: the stored credentials, in order, as
    /// `SHOW CREATE USER` prints them. A plaintext password is never kept: its credential is
    /// unknown (nil salt). No warning: it is legitimate where clients verify the certificate
    /// (docs/access-policy.md, "Stored credentials").
    private mutating func parseAuthentication() throws(PolicyParseError) -> [StoredCredential] {
        if accept("BY") {
            if accept("PASSWORD") {
                let token = current
                let hash = try parseSecretString(what: "a password string after IDENTIFIED BY")
                // A 16-character pre-4.1 hash makes the account mysql_old_password (sql/sql_acl.cc).
                let plugin = hash.utf8.count == 16 ? "mysql_old_password" : StoredCredential.nativePassword
                return [try decodeCredential(plugin: plugin, hash, at: token)]
            }
            _ = try parseSecretString(what: "a password string after IDENTIFIED BY")
            return [StoredCredential(plugin: StoredCredential.nativePassword, salt: nil)]
        }
        guard accept("VIA") || accept("WITH") else { throw fail(expected: "BY, VIA or WITH after IDENTIFIED") }
        var credentials: [StoredCredential] = []
        repeat {
            let plugin = try parseName(what: "an authentication plugin name").text.lowercased()
            if accept("USING") || accept("AS") {
                if accept("PASSWORD") {
                    try expectSymbol("(", "after PASSWORD")
                    _ = try parseSecretString(what: "a password string in PASSWORD(…)")
                    try expectSymbol(")", "to close PASSWORD(…)")
                    credentials.append(StoredCredential(plugin: plugin, salt: nil))
                } else {
                    let token = current
                    let text = try parseSecretString(what: "an authentication string after USING or AS")
                    credentials.append(try decodeCredential(plugin: plugin, text, at: token))
                }
            } else {
                credentials.append(StoredCredential(plugin: plugin, salt: []))
            }
        } while accept("OR")
        return credentials
    }

    private mutating func decodeCredential(
        plugin: String,
        _ text: String,
        at token: SQLToken
    ) throws(PolicyParseError) -> StoredCredential {
        do {
            return try StoredCredential.decode(plugin: plugin, authenticationString: text)
        } catch {
            throw fail("\(error.message) (the string is not shown)", at: token)
        }
    }

    // MARK: Values

    /// A password or authentication string: like ``parseStringValue(what:)``, but an error
    /// names neither the token found instead of it nor the one right after it.
    private mutating func parseSecretString(what: String) throws(PolicyParseError) -> String {
        guard current.kind == .string else { throw fail(expected: what, redactingFound: true) }
        let value = try parseStringValue(what: what)
        positionAfterSecret = position
        return value
    }

    /// A string literal; adjacent literals are joined (with a warning: 10.11 rejects them here).
    mutating func parseStringValue(what: String) throws(PolicyParseError) -> String {
        guard current.kind == .string else { throw fail(expected: what) }
        var value = current.text
        advance()
        while current.kind == .string {
            warnings.append(
                "\(location(of: current)): adjacent string literals are joined; MariaDB 10.11 rejects this syntax here"
            )
            value += current.text
            advance()
        }
        return value
    }

    private mutating func parseNumber(after keyword: String) throws(PolicyParseError) {
        _ = acceptSymbol("-") || acceptSymbol("+")
        guard current.kind == .number else { throw fail(expected: "a number after \(keyword)") }
        advance()
    }

    // MARK: REQUIRE

    /// `REQUIRE {NONE | SSL | X509 | tls_option [[AND] tls_option …]}`; each tls_option once.
    mutating func parseOptionalRequire() throws(PolicyParseError) -> RequireClause? {
        let start = current
        guard accept("REQUIRE") else { return nil }
        let clauseLocation = location(of: start)
        if accept("NONE") { return RequireClause(requirement: .none, location: clauseLocation) }
        if accept("SSL") { return RequireClause(requirement: .ssl, location: clauseLocation) }
        if accept("X509") { return RequireClause(requirement: .x509, location: clauseLocation) }
        if current.kind == .end || current.isSymbol(";") || current.isKeyword("WITH") || current.isKeyword("ACCOUNT")
            || current.isKeyword("PASSWORD")
        {
            // SHOW CREATE USER prints a SPECIFIED requirement whose strings are all empty as a bare
            // `REQUIRE` (e.g. after `REQUIRE SUBJECT ''` and a restart). MariaDB cannot parse
            // its own output here; accept it so the output pastes in.
            warnings.append(
                "\(clauseLocation): REQUIRE without an option (as SHOW CREATE USER prints empty ISSUER/SUBJECT/CIPHER values) is read as REQUIRE SUBJECT ''; MariaDB itself rejects this syntax"
            )
            return RequireClause(
                requirement: .specified(cipher: nil, issuer: nil, subject: nil),
                location: clauseLocation
            )
        }
        guard Self.isTLSOption(current) else {
            throw fail(expected: "NONE, SSL, X509, SUBJECT, ISSUER or CIPHER after REQUIRE")
        }
        var values: [String: String] = [:]
        while true {
            let keyword = current
            let name = keyword.text.uppercased()
            advance()
            if values[name] != nil { throw fail("Option '\(name)' used twice in statement", at: keyword) }
            values[name] = clean(try parseStringValue(what: "a string after \(name)"), option: name, at: keyword)
            if accept("AND") {
                guard Self.isTLSOption(current) else { throw fail(expected: "SUBJECT, ISSUER or CIPHER after AND") }
                continue
            }
            if !Self.isTLSOption(current) { break }
        }
        func nonEmpty(_ key: String) -> String? {
            guard let value = values[key], !value.isEmpty else { return nil }
            return value
        }
        let requirement = TLSRequirement.specified(
            cipher: nonEmpty("CIPHER"),
            issuer: nonEmpty("ISSUER"),
            subject: nonEmpty("SUBJECT")
        )
        return RequireClause(requirement: requirement, location: clauseLocation)
    }

    private static func isTLSOption(_ token: SQLToken) -> Bool {
        token.isKeyword("SUBJECT") || token.isKeyword("ISSUER") || token.isKeyword("CIPHER")
    }

    /// MariaDB keeps these values as C strings (cut at a NUL) and, once it reloads its tables,
    /// treats an empty value as "not set".
    private mutating func clean(_ value: String, option: String, at token: SQLToken) -> String {
        var value = value
        if let nul = value.utf8.firstIndex(of: 0) {
            value = String(value[..<nul])
            warnings.append(
                "\(location(of: token)): REQUIRE \(option) value is cut at its NUL character, as MariaDB stores it"
            )
        }
        if value.isEmpty {
            warnings.append(
                "\(location(of: token)): REQUIRE \(option) '' checks nothing (MariaDB treats an empty value as unset once it reloads its privileges)"
            )
        }
        return value
    }

    // MARK: WITH …, ACCOUNT LOCK, PASSWORD EXPIRE

    enum WithOptions {
        /// CREATE/ALTER USER: resource limits.
        case resourceLimits
        /// GRANT … ON level: GRANT OPTION and resource limits.
        case grantOptionAndLimits
        /// GRANT PROXY: GRANT OPTION only.
        case grantOptionOnly
        /// GRANT role: ADMIN OPTION only.
        case adminOptionOnly
    }

    mutating func parseOptionalWithOptions(_ allowed: WithOptions) throws(PolicyParseError) {
        guard accept("WITH") else { return }
        var count = 0
        while true {
            if allowed == .adminOptionOnly {
                try expect("ADMIN", "after WITH")
                try expect("OPTION", "after WITH ADMIN")
                return
            }
            if allowed != .resourceLimits, accept("GRANT") {
                try expect("OPTION", "after WITH GRANT")
            } else if allowed != .grantOptionOnly, let keyword = Self.resourceKeyword(current) {
                advance()
                try parseNumber(after: keyword)
            } else if count == 0 {
                switch allowed {
                case .resourceLimits:
                    throw fail(
                        expected:
                            "MAX_QUERIES_PER_HOUR, MAX_UPDATES_PER_HOUR, MAX_CONNECTIONS_PER_HOUR, MAX_USER_CONNECTIONS or MAX_STATEMENT_TIME after WITH"
                    )
                case .grantOptionAndLimits: throw fail(expected: "GRANT OPTION or a MAX_… resource limit after WITH")
                default: throw fail(expected: "GRANT OPTION after WITH")
                }
            } else {
                return
            }
            count += 1
        }
    }

    private static func resourceKeyword(_ token: SQLToken) -> String? {
        for keyword in [
            "MAX_QUERIES_PER_HOUR", "MAX_UPDATES_PER_HOUR", "MAX_CONNECTIONS_PER_HOUR", "MAX_USER_CONNECTIONS",
            "MAX_STATEMENT_TIME",
        ]
        where token.isKeyword(keyword) {
            return keyword
        }
        return nil
    }

    /// `ACCOUNT {LOCK|UNLOCK}` and `PASSWORD EXPIRE [DEFAULT|NEVER|INTERVAL n DAY]`, each at
    /// most once, in either order.
    mutating func parseOptionalLockAndExpire() throws(PolicyParseError) {
        var sawLock = false
        var sawExpire = false
        while true {
            if !sawLock, accept("ACCOUNT") {
                guard accept("LOCK") || accept("UNLOCK") else { throw fail(expected: "LOCK or UNLOCK after ACCOUNT") }
                sawLock = true
            } else if !sawExpire, accept("PASSWORD") {
                try expect("EXPIRE", "after PASSWORD")
                if accept("INTERVAL") {
                    try parseNumber(after: "INTERVAL")
                    try expect("DAY", "after PASSWORD EXPIRE INTERVAL n")
                } else {
                    _ = accept("DEFAULT") || accept("NEVER")
                }
                sawExpire = true
            } else {
                return
            }
        }
    }

    // MARK: Helpers

    static func droppingTrailingSpaces(_ text: String) -> String {
        var bytes = Array(text.utf8)
        while bytes.last == UInt8(ascii: " ") { bytes.removeLast() }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// `my_casedn_str(system_charset_info, host)`: ASCII and single-character Unicode
    /// lower-casing (utf8mb3 has no multi-character case mappings).
    static func lowercasedHost(_ host: String) -> String {
        var out = String.UnicodeScalarView()
        for scalar in host.unicodeScalars {
            if scalar.isASCII {
                out.append(Unicode.Scalar(ASCII.lowercased(UInt8(scalar.value))))
            } else {
                let lower = scalar.properties.lowercaseMapping.unicodeScalars
                if lower.count == 1, let only = lower.first { out.append(only) } else { out.append(scalar) }
            }
        }
        return String(out)
    }
}
