import Testing

@testable import AccessPolicy

@Suite("SQL tokenizer: MariaDB's lexical rules")
struct SQLTokenizerTests {
    private func values(_ text: String) throws -> [String] {
        try tokens(text).filter { $0.kind != .end }.map(\.text)
    }

    private func string(_ literal: String) throws -> String {
        let all = try tokens(literal)
        #expect(all.count == 2)
        #expect(all[0].kind == .string)
        return all[0].text
    }

    @Test("backslash escapes as sql_lex.cc: \\0 \\b \\n \\r \\t \\Z, \\% and \\_ keep the backslash, others drop it")
    func escapes() throws {
        #expect(try string(#"'a\nb\tc\rd\Ze\0f\bg\%h\_i\qj"k'"#) == "a\nb\tc\rd\u{1A}e\0f\u{08}g\\%h\\_iqj\"k")
        #expect(try string(#"'\\'"#) == "\\")
        #expect(try string(#"'\''"#) == "'")
        #expect(try string(#"'\"'"#) == "\"")
        #expect(try string(#"'\ü'"#) == "ü")
    }

    @Test("doubled quotes, and the other quote character inside a literal")
    func doubledQuotes() throws {
        #expect(try string("'it''s'") == "it's")
        #expect(try string(#""dq""x\"y'z""#) == #"dq"x"y'z"#)
        #expect(try string(#"'say "hi"'"#) == #"say "hi""#)
        #expect(try string("''") == "")
    }

    @Test("OpenSSL's \\xNN escapes survive when the backslash is written \\\\, as SHOW CREATE USER prints it")
    func opensslEscapes() throws {
        #expect(try string(#"'/CN=J\\xC3\\xBCrgen'"#) == #"/CN=J\xC3\xBCrgen"#)
        // A single backslash before x is dropped, exactly as MariaDB does.
        #expect(try string(#"'/CN=J\xC3'"#) == "/CN=JxC3")
    }

    @Test("backquoted identifiers double their backquote and know no escapes")
    func backquotes() throws {
        let all = try tokens("`with``tick` `a\\b` ``")
        #expect(all.map(\.kind) == [.quotedIdentifier, .quotedIdentifier, .quotedIdentifier, .end])
        #expect(all.map(\.text) == ["with`tick", "a\\b", "", ""])
    }

    @Test("comments: '-- ' needs a blank or control character, '#', '/* */', conditional comments")
    func comments() throws {
        #expect(try values("a -- comment\nb") == ["a", "b"])
        #expect(try values("a --\tcomment\nb") == ["a", "b"])
        #expect(try values("a --") == ["a"])
        #expect(try values("a --x") == ["a", "-", "-", "x"])
        #expect(try values("a # comment ; still\nb") == ["a", "b"])
        #expect(try values("a /* x ; y */ b") == ["a", "b"])
        #expect(try values("a /*!40101 SET x=1 */ b /*M!100100 c */ d") == ["a", "b", "d"])
        #expect(try values("a/**/b") == ["a", "b"])
    }

    @Test("the host after @: bare host name, quoted host, or empty when a blank follows")
    func hostAfterAt() throws {
        let bare = try tokens("bob@192.168.1.5")
        #expect(bare.map(\.kind) == [.word, .symbol, .hostname, .end])
        #expect(bare[2].text == "192.168.1.5")
        let quoted = try tokens("'bob'@'%.example.com'")
        #expect(quoted.map(\.kind) == [.string, .symbol, .string, .end])
        let blank = try tokens("bob@ 'x'")
        #expect(blank.map(\.kind) == [.word, .symbol, .hostname, .string, .end])
        #expect(blank[2].text == "")
        // '-' and '%' end a bare host name (MariaDB: syntax error near '-host.com').
        #expect(try values("h@my-host.com") == ["h", "@", "my", "-", "host", ".", "com"])
        #expect(try values("h@x_y$z.5e5") == ["h", "@", "x_y$z.5e5"])
    }

    @Test("numbers versus identifiers that start with a digit")
    func numbers() throws {
        let all = try tokens("5 2.500000 1e3 0x1F 1abc 12e")
        #expect(all.map(\.kind) == [.number, .number, .number, .number, .word, .word, .end])
        #expect(all[1].text == "2.500000")
    }

    @Test("line and column count characters, not bytes")
    func locations() throws {
        let all = try tokens("é 'ü' x\n  y")
        #expect(all.map(\.line) == [1, 1, 1, 2, 2])
        #expect(all.map(\.column) == [1, 3, 7, 3, 4])
    }

    @Test("unterminated literals and comments are errors at their start")
    func unterminated() {
        #expect(
            rejection("CREATE USER 'bob")
                == PolicyParseError(
                    location: .init(file: "t.sql", line: 1, column: 13),
                    message: "unterminated string literal: no closing '"
                )
        )
        #expect(
            rejection("CREATE USER \"bob")
                == PolicyParseError(
                    location: .init(file: "t.sql", line: 1, column: 13),
                    message: "unterminated string literal: no closing \""
                )
        )
        #expect(
            rejection("\n  CREATE USER `bob")
                == PolicyParseError(
                    location: .init(file: "t.sql", line: 2, column: 15),
                    message: "unterminated quoted identifier: no closing `"
                )
        )
        #expect(
            rejection("CREATE USER a; /* open")
                == PolicyParseError(
                    location: .init(file: "t.sql", line: 1, column: 16),
                    message: "unterminated comment: '/*' has no matching '*/'"
                )
        )
        #expect(rejection("CREATE USER 'a\\'") != nil)
    }
}
