/// Escaping for text placed in a roff (man macro) document, as groff_man(7) asks.
enum Roff {
    /// `text` as roff input that prints exactly `text`, on one or more lines.
    ///
    /// Backslashes become `\e`, hyphens `\-` (so option names copy and paste as ASCII and never
    /// break across lines), and a line that would start with `.` or `'` (a control line) is
    /// guarded with the zero-width `\&`.
    static func escape(_ text: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false)
            .map(escapeLine)
            .joined(separator: "\n")
    }

    /// Text between font escapes such as `\fB…\fR`, where a line start cannot occur.
    static func inline(_ text: String) -> String {
        var result = ""
        for character in text {
            switch character {
            case "\\": result += "\\e"
            case "-": result += "\\-"
            default: result.append(character)
            }
        }
        return result
    }

    /// `text` in bold, for literal input such as option names and values.
    static func bold(_ text: String) -> String { "\\fB" + inline(text) + "\\fR" }

    /// `text` in italics, for placeholders the reader replaces.
    static func italic(_ text: String) -> String { "\\fI" + inline(text) + "\\fR" }

    /// A macro argument in double quotes (`.TH`): a quote inside becomes `\(dq`.
    static func quotedArgument(_ text: String) -> String {
        "\"" + inline(text).replacingQuotes() + "\""
    }

    private static func escapeLine(_ line: Substring) -> String {
        let escaped = inline(String(line))
        if escaped.hasPrefix(".") || escaped.hasPrefix("'") { return "\\&" + escaped }
        return escaped
    }
}

extension String {
    fileprivate func replacingQuotes() -> String {
        var result = ""
        for character in self {
            if character == "\"" { result += "\\(dq" } else { result.append(character) }
        }
        return result
    }
}
