import Logging
import Testing

@testable import SystemdIntegration

/// Logged values cannot forge lines or fields, on stderr or in the journal.
@Suite("Log escaping")
struct LogEscapingTests {
    @Test(arguments: [
        ("app", "app"),
        ("", ""),
        ("x\nfake line", "x\\nfake line"),
        ("a\r\nb", "a\\r\\nb"),
        ("tab\there", "tab\\there"),
        ("nul\u{0}bell\u{7}esc\u{1B}del\u{7F}", "nul\\x00bell\\x07esc\\x1Bdel\\x7F"),
        ("back\\slash", "back\\\\slash"),
        ("say \"hi\"", "say \\\"hi\\\""),
        ("nel\u{85}ls\u{2028}ps\u{2029}", "nel\\u{0085}ls\\u{2028}ps\\u{2029}"),
        ("admin\u{202E}txt.exe", "admin\\u{202E}txt.exe"),
        ("a\u{2066}b\u{200F}", "a\\u{2066}b\\u{200F}"),
        ("größe ünïcödé", "größe ünïcödé"),
    ])
    func escaping(raw: String, expected: String) {
        #expect(LogEscaping.escaped(raw) == expected)
    }

    @Test func escapedTextHasNoLineBreakOrControlCharacter() {
        var everything = ""
        for value in UInt32(0)...0x3000 {
            if let scalar = Unicode.Scalar(value) { everything.unicodeScalars.append(scalar) }
        }
        let escaped = LogEscaping.escaped(everything)
        #expect(!escaped.unicodeScalars.contains { $0.properties.generalCategory == .control })
        #expect(!escaped.contains { $0.isNewline })
    }

    @Test(arguments: [
        ("app", "app"),
        ("", "\"\""),
        ("refused: 1045 x", "\"refused: 1045 x\""),
        ("a=b", "\"a=b\""),
        ("x\nfake line", "\"x\\nfake line\""),
        ("x\nfake", "x\\nfake"),
        ("q\"", "\"q\\\"\""),
        ("back\\slash", "back\\\\slash"),
    ])
    func stderrFieldValues(raw: String, expected: String) {
        #expect(LogEscaping.fieldValue(raw) == expected)
    }

    @Test func journalMessageAndFieldsAreEscaped() {
        let fields = JournalLogHandler.escapedFields(
            message: "connection closed\nfake line",
            level: .info,
            metadata: ["user": "x\nMESSAGE=forged", "client": "192.0.2.7:50942", "outcome": "relayed"],
            source: "ProxyServer",
            file: "f.swift",
            function: "f()",
            line: 1
        )
        #expect(fields.first == "MESSAGE=connection closed\\nfake line")
        #expect(fields.contains("USER_NAME=x\\nMESSAGE=forged"))
        #expect(fields.contains("CLIENT_IP=192.0.2.7"))
        #expect(fields.contains("OUTCOME=relayed"))
        #expect(!fields.contains { $0.contains("\n") })
    }
}
