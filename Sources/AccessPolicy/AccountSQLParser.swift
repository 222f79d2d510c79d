/// A recursive-descent parser for the account statements of MariaDB's grammar
/// (`sql/sql_yacc.yy`): CREATE/ALTER/DROP/RENAME USER, GRANT, and the statements that are
/// accepted only to be ignored. It keeps the clause order the server enforces
/// (`account [auth], … REQUIRE … WITH … lock/expire`), so a file that parses here also parses
/// on a server, with one exception: adjacent string literals in a value (`'a' 'b'`) are joined,
/// with a warning, where 10.11 reports a syntax error.
struct AccountSQLParser {
    let tokens: [SQLToken]
    let fileName: String
    var position = 0
    /// Notes found while parsing (e.g. joined literals), as `file:line:column: text`.
    var warnings: [String] = []
    /// The position of the token right after the last password or authentication string: an
    /// error there does not show that token, which may be the rest of a mis-quoted password.
    var positionAfterSecret: Int?

    init(text: String, fileName: String) throws(PolicyParseError) {
        self.tokens = try SQLTokenizer.tokenize(text, fileName: fileName)
        self.fileName = fileName
    }

    /// Parses every statement in order.
    mutating func parseAll() throws(PolicyParseError) -> [PolicyStatement] {
        var statements: [PolicyStatement] = []
        while current.kind != .end {
            if current.isSymbol(";") {
                advance()
                continue
            }
            let statement = try parseStatement()
            statements.append(statement)
            if current.isSymbol(";") {
                advance()
            } else if current.kind != .end {
                throw fail(expected: "';' to end the statement")
            }
        }
        return statements
    }

    // MARK: Cursor

    var current: SQLToken { tokens[min(position, tokens.count - 1)] }

    func peek(_ offset: Int) -> SQLToken { tokens[min(position + offset, tokens.count - 1)] }

    mutating func advance() {
        if position < tokens.count - 1 { position += 1 }
    }

    func location(of token: SQLToken) -> SourceLocation {
        SourceLocation(file: fileName, line: token.line, column: token.column)
    }

    /// "expected …, found …"; the found token is described without its text where it may be a
    /// secret (`redactingFound`, or right after a password string).
    func fail(expected what: String, redactingFound: Bool = false) -> PolicyParseError {
        let found =
            redactingFound || position == positionAfterSecret ? current.redactedForMessage : current.quotedForMessage
        return PolicyParseError(location: location(of: current), message: "expected \(what), found \(found)")
    }

    func fail(_ message: String, at token: SQLToken) -> PolicyParseError {
        PolicyParseError(location: location(of: token), message: message)
    }

    /// Consumes `keyword` if it is next.
    mutating func accept(_ keyword: String) -> Bool {
        guard current.isKeyword(keyword) else { return false }
        advance()
        return true
    }

    mutating func acceptSymbol(_ symbol: Character) -> Bool {
        guard current.isSymbol(symbol) else { return false }
        advance()
        return true
    }

    mutating func expect(_ keyword: String, _ context: String) throws(PolicyParseError) {
        guard accept(keyword) else { throw fail(expected: "\(keyword) \(context)") }
    }

    mutating func expectSymbol(_ symbol: Character, _ context: String) throws(PolicyParseError) {
        guard acceptSymbol(symbol) else { throw fail(expected: "'\(symbol)' \(context)") }
    }

    /// Skips to the end of the statement (for statements accepted and ignored).
    mutating func skipStatement() {
        while current.kind != .end && !current.isSymbol(";") { advance() }
    }

    // MARK: Statements

    private mutating func parseStatement() throws(PolicyParseError) -> PolicyStatement {
        let start = current
        if accept("CREATE") {
            let orReplace = accept("OR")
            if orReplace { try expect("REPLACE", "after CREATE OR") }
            if accept("USER") { return try parseCreateUser(orReplace: orReplace, start: start) }
            if accept("ROLE") { return try parseCreateRole() }
            throw fail(expected: "USER or ROLE after CREATE")
        }
        if accept("ALTER") {
            try expect("USER", "after ALTER (only ALTER USER is supported)")
            return try parseAlterUser()
        }
        if accept("GRANT") { return try parseGrant() }
        if accept("DROP") {
            if accept("USER") { return try parseDropUser() }
            if accept("ROLE") { return try parseDropRole() }
            throw fail(expected: "USER or ROLE after DROP")
        }
        if accept("RENAME") {
            try expect("USER", "after RENAME")
            return try parseRenameUser()
        }
        if accept("REVOKE") {
            skipStatement()
            return .ignored
        }
        if accept("SET") {
            if current.isKeyword("PASSWORD") || (current.isKeyword("DEFAULT") && peek(1).isKeyword("ROLE")) {
                skipStatement()
                return .ignored
            }
            throw fail(expected: "DEFAULT ROLE or PASSWORD after SET")
        }
        if accept("FLUSH") {
            _ = accept("LOCAL") || accept("NO_WRITE_TO_BINLOG")
            try expect("PRIVILEGES", "after FLUSH (only FLUSH PRIVILEGES is accepted)")
            return .ignored
        }
        throw fail(
            expected:
                "CREATE USER, ALTER USER, GRANT, DROP USER, RENAME USER, REVOKE, CREATE/DROP ROLE, SET DEFAULT ROLE, SET PASSWORD or FLUSH PRIVILEGES at the start of a statement"
        )
    }

    private mutating func parseCreateUser(orReplace: Bool, start: SQLToken) throws(PolicyParseError) -> PolicyStatement
    {
        let ifNotExists = try parseIfNotExists()
        if orReplace && ifNotExists {
            throw fail("Incorrect usage of OR REPLACE and IF NOT EXISTS", at: start)
        }
        let accounts = try parseGrantList()
        let require = try parseOptionalRequire()
        try parseOptionalWithOptions(.resourceLimits)
        try parseOptionalLockAndExpire()
        return .createUser(orReplace: orReplace, ifNotExists: ifNotExists, accounts: accounts, require: require)
    }

    private mutating func parseAlterUser() throws(PolicyParseError) -> PolicyStatement {
        let ifExists = try parseIfExists()
        let accounts = try parseGrantList()
        let require = try parseOptionalRequire()
        try parseOptionalWithOptions(.resourceLimits)
        try parseOptionalLockAndExpire()
        return .alterUser(ifExists: ifExists, accounts: accounts, require: require)
    }

    private mutating func parseDropUser() throws(PolicyParseError) -> PolicyStatement {
        let ifExists = try parseIfExists()
        var accounts = [try parseAccount()]
        while acceptSymbol(",") { accounts.append(try parseAccount()) }
        return .dropUser(ifExists: ifExists, accounts: accounts)
    }

    private mutating func parseRenameUser() throws(PolicyParseError) -> PolicyStatement {
        var pairs: [PolicyStatement.RenamePair] = []
        repeat {
            let from = try parseAccount()
            try expect("TO", "between the old and the new account name")
            let to = try parseAccount()
            pairs.append(.init(from: from, to: to))
        } while acceptSymbol(",")
        return .renameUser(pairs: pairs)
    }

    private mutating func parseCreateRole() throws(PolicyParseError) -> PolicyStatement {
        _ = try parseIfNotExists()
        var names = [try parseName(what: "role name")]
        while acceptSymbol(",") { names.append(try parseName(what: "role name")) }
        skipStatement()  // WITH ADMIN …
        return .createRole(names: names.map(\.text))
    }

    private mutating func parseDropRole() throws(PolicyParseError) -> PolicyStatement {
        _ = try parseIfExists()
        var names = [try parseName(what: "role name")]
        while acceptSymbol(",") { names.append(try parseName(what: "role name")) }
        return .dropRole(names: names.map(\.text))
    }

    private mutating func parseIfNotExists() throws(PolicyParseError) -> Bool {
        guard accept("IF") else { return false }
        try expect("NOT", "after IF")
        try expect("EXISTS", "after IF NOT")
        return true
    }

    private mutating func parseIfExists() throws(PolicyParseError) -> Bool {
        guard accept("IF") else { return false }
        try expect("EXISTS", "after IF")
        return true
    }
}
