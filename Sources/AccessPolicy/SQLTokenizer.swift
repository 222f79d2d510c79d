/// Splits policy text into tokens with MariaDB's lexical rules (`sql/sql_lex.cc`): comments
/// `# …`, `-- …` (the dashes must be followed by a blank or control character) and `/* … */`
/// (conditional `/*! … */` and `/*M! … */` included — the proxy ignores them), string literals
/// in single or double quotes with backslash escapes and doubled quotes, backquoted
/// identifiers, and the special host-name token after `@`.
struct SQLTokenizer {
    private let bytes: [UInt8]
    private let fileName: String
    private var index = 0
    private var line = 1
    private var column = 1

    init(text: String, fileName: String) {
        self.bytes = Array(text.utf8)
        self.fileName = fileName
    }

    /// All tokens, ending with one `.end` token.
    static func tokenize(_ text: String, fileName: String) throws(PolicyParseError) -> [SQLToken] {
        var tokenizer = SQLTokenizer(text: text, fileName: fileName)
        var tokens: [SQLToken] = []
        while true {
            let token = try tokenizer.next()
            tokens.append(token)
            if token.kind == .end { return tokens }
            if token.isSymbol("@") { try tokenizer.afterAt(into: &tokens) }
        }
    }

    private func peek(_ offset: Int = 0) -> UInt8? {
        let i = index + offset
        return i < bytes.count ? bytes[i] : nil
    }

    /// Consumes one byte, keeping line and column (in characters) up to date.
    private mutating func advance() {
        guard index < bytes.count else { return }
        let byte = bytes[index]
        index += 1
        if byte == UInt8(ascii: "\n") {
            line += 1
            column = 1
        } else if byte & 0xC0 != 0x80 {
            column += 1
        }
    }

    private func error(_ message: String, line: Int, column: Int) -> PolicyParseError {
        PolicyParseError(location: SourceLocation(file: fileName, line: line, column: column), message: message)
    }

    private static func isIdentifierByte(_ b: UInt8) -> Bool {
        ASCII.isAlnum(b) || b == UInt8(ascii: "_") || b == UInt8(ascii: "$") || b >= 0x80
    }

    private mutating func next() throws(PolicyParseError) -> SQLToken {
        try skipBlanksAndComments()
        let startLine = line
        let startColumn = column
        func token(_ kind: SQLToken.Kind, _ text: String) -> SQLToken {
            SQLToken(kind: kind, text: text, line: startLine, column: startColumn)
        }
        guard let byte = peek() else { return token(.end, "") }
        switch byte {
        case UInt8(ascii: "'"), UInt8(ascii: "\""):
            return token(.string, try readString(quote: byte, line: startLine, column: startColumn))
        case UInt8(ascii: "`"):
            return token(.quotedIdentifier, try readQuotedIdentifier(line: startLine, column: startColumn))
        case _ where SQLTokenizer.isIdentifierByte(byte):
            let start = index
            while let b = peek(), SQLTokenizer.isIdentifierByte(b) { advance() }
            var word = Array(bytes[start..<index])
            if ASCII.isDigit(byte), SQLTokenizer.isNumber(word) {
                // A decimal fraction: 2.500000 as SHOW CREATE USER prints MAX_STATEMENT_TIME.
                if peek() == UInt8(ascii: "."), let digit = peek(1), ASCII.isDigit(digit),
                    word.allSatisfy(ASCII.isDigit)
                {
                    advance()
                    word.append(UInt8(ascii: "."))
                    while let b = peek(), ASCII.isDigit(b) {
                        word.append(b)
                        advance()
                    }
                }
                return token(.number, String(decoding: word, as: UTF8.self))
            }
            return token(.word, String(decoding: word, as: UTF8.self))
        default:
            // One character (a whole UTF-8 sequence for non-ASCII, which cannot happen here).
            advance()
            return token(.symbol, String(decoding: [byte], as: UTF8.self))
        }
    }

    /// After `@`: a quoted host is lexed normally; anything else is read as a bare host name,
    /// possibly empty (`user@ 'x'` is an error in MariaDB because of exactly this).
    private mutating func afterAt(into tokens: inout [SQLToken]) throws(PolicyParseError) {
        if let b = peek(),
            b == UInt8(ascii: "'") || b == UInt8(ascii: "\"") || b == UInt8(ascii: "`") || b == UInt8(ascii: "@")
        {
            return
        }
        let startLine = line
        let startColumn = column
        let start = index
        while let b = peek(),
            ASCII.isAlnum(b) || b == UInt8(ascii: ".") || b == UInt8(ascii: "_") || b == UInt8(ascii: "$") || b >= 0x80
        {
            advance()
        }
        let text = String(decoding: bytes[start..<index], as: UTF8.self)
        tokens.append(SQLToken(kind: .hostname, text: text, line: startLine, column: startColumn))
    }

    /// All digits, `1e5`/`1E+5`, or `0x1F`: a number; other words starting with a digit
    /// (`1abc`) are identifiers, as in MariaDB.
    private static func isNumber(_ word: [UInt8]) -> Bool {
        if word.allSatisfy(ASCII.isDigit) { return true }
        if word.count > 2, word[0] == UInt8(ascii: "0"), word[1] == UInt8(ascii: "x") || word[1] == UInt8(ascii: "b") {
            return word.dropFirst(2).allSatisfy(
                word[1] == UInt8(ascii: "x") ? ASCII.isHexDigit : { $0 == 0x30 || $0 == 0x31 }
            )
        }
        if let e = word.firstIndex(where: { $0 | 0x20 == UInt8(ascii: "e") }), e > 0, e + 1 < word.count {
            return word[..<e].allSatisfy(ASCII.isDigit) && word[(e + 1)...].allSatisfy(ASCII.isDigit)
        }
        return false
    }

    private mutating func skipBlanksAndComments() throws(PolicyParseError) {
        while let byte = peek() {
            if ASCII.isSpace(byte) {
                advance()
            } else if byte == UInt8(ascii: "#") {
                skipToEndOfLine()
            } else if byte == UInt8(ascii: "-"), peek(1) == UInt8(ascii: "-"),
                peek(2).map({ $0 <= 0x20 || $0 == 0x7F }) ?? true
            {
                skipToEndOfLine()
            } else if byte == UInt8(ascii: "/"), peek(1) == UInt8(ascii: "*") {
                let startLine = line
                let startColumn = column
                advance()
                advance()
                while true {
                    guard let b = peek() else {
                        throw error(
                            "unterminated comment: '/*' has no matching '*/'",
                            line: startLine,
                            column: startColumn
                        )
                    }
                    if b == UInt8(ascii: "*"), peek(1) == UInt8(ascii: "/") {
                        advance()
                        advance()
                        break
                    }
                    advance()
                }
            } else {
                return
            }
        }
    }

    private mutating func skipToEndOfLine() {
        while let b = peek(), b != UInt8(ascii: "\n") { advance() }
    }

    /// A string literal: `\0 \b \n \r \t \Z` are control characters, `\%` and `\_` keep their
    /// backslash (they are LIKE escapes), any other `\x` is `x`; a doubled quote is one quote.
    private mutating func readString(quote: UInt8, line: Int, column: Int) throws(PolicyParseError) -> String {
        advance()
        var value: [UInt8] = []
        while true {
            guard let b = peek() else {
                throw error(
                    "unterminated string literal: no closing \(quote == UInt8(ascii: "'") ? "'" : "\"")",
                    line: line,
                    column: column
                )
            }
            advance()
            if b == quote {
                if peek() == quote {
                    value.append(quote)
                    advance()
                    continue
                }
                return String(decoding: value, as: UTF8.self)
            }
            if b == UInt8(ascii: "\\"), let escaped = peek() {
                advance()
                switch escaped {
                case UInt8(ascii: "0"): value.append(0)
                case UInt8(ascii: "b"): value.append(0x08)
                case UInt8(ascii: "n"): value.append(0x0A)
                case UInt8(ascii: "r"): value.append(0x0D)
                case UInt8(ascii: "t"): value.append(0x09)
                case UInt8(ascii: "Z"): value.append(0x1A)
                case UInt8(ascii: "%"), UInt8(ascii: "_"):
                    value.append(UInt8(ascii: "\\"))
                    value.append(escaped)
                default: value.append(escaped)
                }
                continue
            }
            value.append(b)
        }
    }

    private mutating func readQuotedIdentifier(line: Int, column: Int) throws(PolicyParseError) -> String {
        advance()
        var value: [UInt8] = []
        while true {
            guard let b = peek() else {
                throw error("unterminated quoted identifier: no closing `", line: line, column: column)
            }
            advance()
            if b == UInt8(ascii: "`") {
                if peek() == UInt8(ascii: "`") {
                    value.append(b)
                    advance()
                    continue
                }
                return String(decoding: value, as: UTF8.self)
            }
            value.append(b)
        }
    }
}
