import Testing

@testable import ProxyConfiguration

@Suite("Option-file syntax")
struct OptionFileSyntaxTests {
    // MARK: Groups

    @Test func onlyTheProxyGroupIsAppliedAndOtherGroupsAreNotValidated() throws {
        let cnf = """
            [client]
            port = 1
            no such option
            port = not-a-number
            [mysqld]
            port = 2
            [mariadb-tls-proxy]
            backend_host = db
            port = 3
            [mariadb]
            port = 4
            """
        #expect(try run(cnf).settings.port == 3)
    }

    @Test func groupNamesAreTrimmedButCaseSensitive() throws {
        #expect(try run("[  mariadb-tls-proxy\t]\nbackend_host = db\nport = 5").settings.port == 5)
        let upper = "[mariadb-tls-proxy]\nbackend_host = db\n[MariaDB-TLS-Proxy]\nport = 5"
        #expect(try run(upper).settings.port == 3306)
    }

    @Test func aGroupMayBeOpenedSeveralTimes() throws {
        let cnf = "[mariadb-tls-proxy]\nbackend_host = db\n[client]\nport = 1\n[mariadb-tls-proxy]\nport = 7"
        #expect(try run(cnf).settings.port == 7)
    }

    @Test func textAfterTheClosingBracketIsIgnored() throws {
        #expect(try run("[mariadb-tls-proxy] whatever\nbackend_host = db\nport = 8").settings.port == 8)
    }

    @Test func groupWithoutClosingBracketIsAnError() {
        #expect(fileError("# c\n[mariadb-tls-proxy\nport = 1") == "/t/my.cnf:2: wrong group definition: missing ']'")
    }

    @Test func optionBeforeAnyGroupIsAnError() {
        #expect(
            fileError("\n  port = 3307\n[mariadb-tls-proxy]")
                == "/t/my.cnf:2: found option 'port' without preceding group (expected a [mariadb-tls-proxy] line first)"
        )
    }

    // MARK: Comments and blanks

    @Test func commentLinesBlankLinesAndInlineComments() throws {
        let s = try settings(
            """

            # a comment
               ; another comment
            \t# indented comment
            port = 4000   # inline comment
            socket = /run/a;b.sock
            max_connections = 9# no blank needed
            """
        )
        #expect(s.port == 4000)
        #expect(s.socketPath == "/run/a;b.sock")  // ';' only starts a comment at the beginning of a line
        #expect(s.maxConnections == 9)
    }

    @Test func hashInsideQuotesIsNotAComment() throws {
        let s = try settings(
            """
            ssl_cipher = "ECDHE#RSA" # comment
            ssl_ca = 'a#b' ;not a comment
            ssl_crl = "escaped \\" # still quoted" # comment
            """
        )
        #expect(s.tls.cipher == "ECDHE#RSA")
        #expect(s.tls.caPath == "'a#b' ;not a comment")  // quotes kept: they do not enclose the whole value
        #expect(s.tls.crlPath == "escaped \" # still quoted")
    }

    @Test func anUnmatchedQuoteRunsToTheEndOfTheLine() throws {
        // MariaDB keeps the text literally; a `#` after an open quote is not a comment.
        #expect(try settings("ssl_cipher = \"abc # def").tls.cipher == "\"abc # def")
        #expect(try settings("ssl_cipher = \"abc'").tls.cipher == "\"abc'")
    }

    // MARK: Names, values, quotes, escapes

    @Test func whitespaceAroundNameAndValueIsTrimmed() throws {
        #expect(try settings("port=1").port == 1)
        #expect(try settings("port = 2").port == 2)
        #expect(try settings("  \tport\t =\t 3 \t ").port == 3)
        #expect(try settings("socket =   /a b/c   ").socketPath == "/a b/c")
    }

    @Test func quotesAreRemovedAndKeepInnerSpaces() throws {
        #expect(try settings("ssl_cipher = \" a b \"").tls.cipher == " a b ")
        #expect(try settings("ssl_cipher = 'x=y'").tls.cipher == "x=y")
        #expect(try settings("ssl_cipher = \"\"").tls.cipher == nil)  // quoted empty is still empty
        #expect(try settings("port = '3307'").port == 3307)
        #expect(try settings("ssl_cipher = 'x\"").tls.cipher == "'x\"")  // different quotes: kept
    }

    @Test func escapeSequencesAreProcessedQuotedOrNot() throws {
        #expect(
            try settings(#"ssl_cipher = "a\tb\nc\rd\be\sf\"g\'h\\i""#).tls.cipher
                == "a\tb\nc\rd\u{08}e f\"g'h\\i"
        )
        #expect(try settings(#"ssl_cipher = a\sb\\c"#).tls.cipher == "a b\\c")
        #expect(try settings(#"ssl_cipher = a\qb"#).tls.cipher == #"a\qb"#)  // unknown escape keeps the backslash
        #expect(try settings(#"ssl_cipher = ab\"#).tls.cipher == #"ab\"#)  // trailing backslash kept
    }

    @Test func equalsSignsAfterTheFirstBelongToTheValue() throws {
        #expect(try settings("ssl_cipher = a=b=c").tls.cipher == "a=b=c")
    }

    @Test func dashAndUnderscoreAreInterchangeable() throws {
        let s = try run(
            "[mariadb-tls-proxy]\nbackend-host = db\nbind-address = 10.0.0.1\nmax_connections = 5\nmax-connections = 6"
        ).settings
        #expect(s.bindAddresses == ["10.0.0.1"])
        #expect(s.maxConnections == 6)
        #expect(s.backend == .tcp(host: "db", port: 3306))
    }

    @Test func optionNamesAreCaseSensitive() {
        #expect(groupError("Port = 1") == "/t/my.cnf:3: unknown option 'Port'; did you mean 'port'?")
    }

    @Test func emptyNameIsAnError() {
        #expect(groupError("= 5") == "/t/my.cnf:3: missing option name before '='")
    }

    @Test func laterAssignmentsOverrideEarlierOnes() throws {
        #expect(try settings("port = 1\nport = 2\nport = 3").port == 3)
    }

    @Test func windowsLineEndingsAndByteOrderMark() throws {
        let cnf = "\u{FEFF}[mariadb-tls-proxy]\r\nbackend_host = db\r\nport = 4406\r\nsocket = /s\r\n"
        let s = try run(cnf).settings
        #expect(s.port == 4406)
        #expect(s.socketPath == "/s")
        #expect(
            fileError("[mariadb-tls-proxy]\r\nbackend_host = db\r\nprot = 1\r\n")
                == "/t/my.cnf:3: unknown option 'prot'; did you mean 'port'?"
        )
    }

    // MARK: Booleans and prefixes

    @Test func bareBooleanMeansOn() throws {
        #expect(try settings("require_secure_transport").requireSecureTransport)
        #expect(try settings("require-secure-transport   # on").requireSecureTransport)
    }

    @Test func bareNonBooleanIsAnError() {
        #expect(groupError("port") == "/t/my.cnf:3: option 'port' requires a value")
        #expect(groupError("ssl-cert") == "/t/my.cnf:3: option 'ssl-cert' requires a value")
    }

    @Test(arguments: ["skip-", "skip_", "disable-", "disable_"])
    func skipAndDisablePrefixesTurnBooleansOff(prefix: String) throws {
        #expect(
            try settings("require_secure_transport = ON\n\(prefix)require_secure_transport").requireSecureTransport
                == false
        )
    }

    @Test(arguments: ["enable-", "enable_"])
    func enablePrefixTurnsBooleansOn(prefix: String) throws {
        #expect(try settings("\(prefix)require-secure-transport").requireSecureTransport)
    }

    @Test func switchPrefixesNeedABooleanOptionAndNoValue() {
        #expect(
            groupError("skip-port")
                == "/t/my.cnf:3: option 'skip-port': the 'skip-' prefix only applies to boolean options"
        )
        #expect(
            groupError("enable_log_level")
                == "/t/my.cnf:3: option 'enable_log_level': the 'enable_' prefix only applies to boolean options"
        )
        #expect(
            groupError("skip-require-secure-transport = 1")
                == "/t/my.cnf:3: option 'skip-require-secure-transport' does not take a value"
        )
    }

    @Test func looseKnownOptionsApply() throws {
        #expect(try settings("loose-port = 4444").port == 4444)
        #expect(try settings("loose_require_secure_transport").requireSecureTransport)
        #expect(
            try settings("require_secure_transport\nloose-skip-require-secure-transport").requireSecureTransport
                == false
        )
    }

    @Test func looseUnknownOptionsAreWarnings() throws {
        let result = try run("[mariadb-tls-proxy]\nbackend_host = db\nloose-foo = 1\nloose_bar\nloose-skip-baz")
        #expect(
            result.warnings == [
                "/t/my.cnf:3: ignoring unknown option 'loose-foo'",
                "/t/my.cnf:4: ignoring unknown option 'loose_bar'",
                "/t/my.cnf:5: ignoring unknown option 'loose-skip-baz'",
            ]
        )
    }

    @Test func looseKnownOptionWithBadValueIsStillAnError() {
        #expect(
            groupError("loose-port = x")
                == "/t/my.cnf:3: option 'loose-port': expected an integer between 0 and 65535, got 'x'"
        )
    }

    // MARK: Unknown options

    @Test func unknownOptionsSuggestTheClosestName() {
        #expect(groupError("prot = 1") == "/t/my.cnf:3: unknown option 'prot'; did you mean 'port'?")
        #expect(
            groupError("backend-prot = 1") == "/t/my.cnf:3: unknown option 'backend-prot'; did you mean 'backend_port'?"
        )
        #expect(groupError("ssl_certificate = /x") == "/t/my.cnf:3: unknown option 'ssl_certificate'")
        #expect(
            groupError("skip-requre-secure-transport")
                == "/t/my.cnf:3: unknown option 'skip-requre-secure-transport'; did you mean 'skip_require_secure_transport'?"
        )
        #expect(
            groupError("tls_versions = TLSv1.3")
                == "/t/my.cnf:3: unknown option 'tls_versions'; did you mean 'tls_version'?"
        )
    }

    @Test func aForgottenEqualsSignIsPointedOut() {
        #expect(groupError("port 3307") == "/t/my.cnf:3: unknown option 'port 3307'; did you mean 'port = 3307'?")
    }

    // MARK: Directives (syntax only; inclusion is in IncludeTests)

    @Test func unknownDirectiveAndMissingPaths() {
        #expect(
            fileError("!inclde /x.cnf")
                == "/t/my.cnf:1: unknown directive '!inclde' (expected '!include' or '!includedir')"
        )
        #expect(
            fileError("!include/x.cnf")
                == "/t/my.cnf:1: unknown directive '!include/x.cnf' (expected '!include' or '!includedir')"
        )
        #expect(fileError("!include   ") == "/t/my.cnf:1: '!include' needs a file name")
        #expect(fileError("[x]\n  !includedir") == "/t/my.cnf:2: '!includedir' needs a directory name")
    }

    // MARK: Line classification

    @Test func lineClassification() throws {
        #expect(try OptionFileLine.parse("") == .ignorable)
        #expect(try OptionFileLine.parse("   ") == .ignorable)
        #expect(try OptionFileLine.parse(" [ g ] ") == .group("g"))
        #expect(try OptionFileLine.parse("!include  a b.cnf  ") == .include("a b.cnf"))
        #expect(try OptionFileLine.parse("!includedir\t/d # not a comment") == .includeDirectory("/d # not a comment"))
        #expect(try OptionFileLine.parse("a") == .option(name: "a", value: nil))
        #expect(try OptionFileLine.parse("a =") == .option(name: "a", value: ""))
        #expect(try OptionFileLine.parse("a = 'b' ") == .option(name: "a", value: "b"))
    }
}
