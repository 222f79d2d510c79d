extension AccountSQLParser {
    /// `GRANT privileges ON [TABLE|FUNCTION|PROCEDURE|PACKAGE [BODY]] level TO grant_list
    ///  [REQUIRE …] [WITH {GRANT OPTION | resource_option} …]`,
    /// `GRANT PROXY ON account TO grant_list [WITH GRANT OPTION]`, and
    /// `GRANT role TO grant_list [WITH ADMIN OPTION]`.
    mutating func parseGrant() throws(PolicyParseError) -> PolicyStatement {
        let items = try parseGrantItems()
        if accept("TO") {
            // A role grant: exactly one role name, no column list.
            guard items.count == 1, items[0].words.count == 1, !items[0].hasColumns else {
                throw fail(
                    "expected ON after the privilege list (a role grant names exactly one role)",
                    at: items.count > 1 ? items[1].first : items[0].first
                )
            }
            if items[0].first.kind == .word, ReservedWords.contains(items[0].first.text) {
                throw fail("expected ON after the privilege list, or a role name before TO", at: items[0].first)
            }
            let accounts = try parseGrantList()
            try parseOptionalWithOptions(.adminOptionOnly)
            return .grant(kind: .role, accounts: accounts, require: nil)
        }
        guard accept("ON") else { throw fail(expected: "ON or TO after the privilege list") }
        for item in items where item.words.contains(where: { $0.kind != .word }) {
            throw fail("expected a privilege name such as SELECT or ALL PRIVILEGES", at: item.first)
        }
        if items.count == 1, items[0].words.count == 1, items[0].first.isKeyword("PROXY"), !items[0].hasColumns {
            _ = try parseAccount()
            try expect("TO", "after GRANT PROXY ON account")
            let accounts = try parseGrantList()
            try parseOptionalWithOptions(.grantOptionOnly)
            return .grant(kind: .proxy, accounts: accounts, require: nil)
        }
        try parseGrantLevel()
        try expect("TO", "after the privilege level")
        let accounts = try parseGrantList()
        let require = try parseOptionalRequire()
        try parseOptionalWithOptions(.grantOptionAndLimits)
        return .grant(kind: .privileges, accounts: accounts, require: require)
    }

    struct GrantItem {
        var words: [SQLToken]
        var hasColumns: Bool
        var first: SQLToken { words[0] }
    }

    /// `SELECT (a, b), INSERT, CREATE TEMPORARY TABLES, ALL PRIVILEGES …` or a role name.
    private mutating func parseGrantItems() throws(PolicyParseError) -> [GrantItem] {
        var items: [GrantItem] = []
        repeat {
            var words: [SQLToken] = []
            while !(current.isKeyword("ON") || current.isKeyword("TO")) {
                if current.kind == .word
                    || ((current.kind == .quotedIdentifier || current.kind == .string) && words.isEmpty)
                {
                    words.append(current)
                    advance()
                    if words.last?.kind != .word { break }
                } else {
                    break
                }
            }
            guard !words.isEmpty else { throw fail(expected: "a privilege or role name after GRANT") }
            var hasColumns = false
            if acceptSymbol("(") {
                hasColumns = true
                repeat {
                    guard current.kind == .word || current.kind == .quotedIdentifier else {
                        throw fail(expected: "a column name")
                    }
                    advance()
                } while acceptSymbol(",")
                try expectSymbol(")", "to close the column list")
            }
            items.append(GrantItem(words: words, hasColumns: hasColumns))
        } while acceptSymbol(",")
        return items
    }

    /// `*`, `*.*`, `db.*`, `db.table`, `table`, optionally after an object type.
    private mutating func parseGrantLevel() throws(PolicyParseError) {
        let objectTypes = ["TABLE", "FUNCTION", "PROCEDURE", "PACKAGE"]
        if objectTypes.contains(where: current.isKeyword), !peek(1).isSymbol(".") {
            let isPackage = current.isKeyword("PACKAGE")
            advance()
            if isPackage, current.isKeyword("BODY"), !peek(1).isSymbol(".") { advance() }
        }
        if acceptSymbol("*") {
            if acceptSymbol(".") { try expectSymbol("*", "after '*.'") }
            return
        }
        try parseObjectName(what: "a privilege level (*.*, db.*, db.table)")
        if acceptSymbol(".") {
            if acceptSymbol("*") { return }
            try parseObjectName(what: "a table or routine name after '.'")
        }
    }

    private mutating func parseObjectName(what: String) throws(PolicyParseError) {
        guard current.kind == .quotedIdentifier || (current.kind == .word && !ReservedWords.contains(current.text))
        else {
            throw fail(expected: what)
        }
        advance()
    }
}
