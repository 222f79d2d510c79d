/// One lexical token of a policy file.
struct SQLToken: Sendable, Equatable {
    enum Kind: Sendable, Equatable {
        /// A bare identifier or keyword: letters, digits, `_`, `$`, non-ASCII.
        case word
        /// `` `…` `` with doubled backquotes undone.
        case quotedIdentifier
        /// `'…'` or `"…"` with MariaDB's escapes and doubled quotes undone.
        case string
        /// An unsigned numeric literal: `5`, `2.500000`, `1e3`, `0x1F`.
        case number
        /// The bare host name after `@` (`bob@localhost`): letters, digits, `.`, `_`, `$`;
        /// empty when `@` is followed by a blank, as in the server's lexer.
        case hostname
        /// Any other single character: `@ , ; ( ) . * = -` …
        case symbol
        /// End of input.
        case end
    }

    var kind: Kind
    /// The value: the word as written, the unquoted identifier or string, the symbol character.
    var text: String
    var line: Int
    var column: Int

    /// `kind == .word` and the word equals `keyword` ignoring ASCII case.
    func isKeyword(_ keyword: String) -> Bool {
        kind == .word && text.utf8.count == keyword.utf8.count
            && zip(text.utf8, keyword.utf8).allSatisfy { ASCII.uppercased($0) == ASCII.uppercased($1) }
    }

    func isSymbol(_ symbol: Character) -> Bool { kind == .symbol && text == String(symbol) }

    /// How the token reads in an error message. A string literal's contents are never shown: it
    /// may be a password (`IDENTIFIED BY 'secret'`), and error messages go to logs and terminals.
    var quotedForMessage: String {
        switch kind {
        case .end: return "end of file"
        case .string: return "a string literal"
        case .quotedIdentifier: return "`\(text.prefix(40))`"
        case .hostname: return text.isEmpty ? "blank after '@'" : "'\(text.prefix(40))'"
        default: return "'\(text.prefix(40))'"
        }
    }

    /// The token's kind only, for a position where it may be (part of) a secret: right after a
    /// password or authentication string, or where one was expected.
    var redactedForMessage: String {
        let what: String
        switch kind {
        case .end: return "end of file"
        case .string: what = "a string literal"
        case .word: what = "a word"
        case .number: what = "a number"
        case .quotedIdentifier: what = "a quoted identifier"
        case .hostname: what = "a host name"
        case .symbol: what = "a symbol"
        }
        return what + " (not shown: it may be part of a password)"
    }
}
