/// Escaping of logged text, shared by both log sinks (the stderr handler and ``JournalLogHandler``)
/// so a value taken from a client (a user name, a certificate subject, an error text) can never
/// forge a log line or a `key=value` field.
///
/// ``escaped(_:)`` turns every control character into a visible escape: `\n`, `\r`, `\t`, and
/// `\xNN` for the other C0 controls and DEL; `\u{NNNN}` for C1 controls (U+0080–U+009F, NEL
/// included), the Unicode line and paragraph separators (U+2028, U+2029) and the bidirectional
/// formatting characters (U+200E, U+200F, U+202A–U+202E, U+2066–U+2069). A backslash becomes
/// `\\` and a double quote `\"`, so the escaped text is unambiguous and can sit inside the stderr
/// format's quotes. Everything else, non-ASCII letters included, is kept as it is.
public enum LogEscaping {
    /// `text` with control characters, backslashes and double quotes escaped (see the type's notes).
    public static func escaped(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: needsEscape) else { return text }
        var out = ""
        out.reserveCapacity(text.utf8.count + 8)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                out += "\\x" + hex(scalar.value, width: 2)
            case _ where isUnicodeControlOrSeparator(scalar):
                out += "\\u{" + hex(scalar.value, width: 4) + "}"
            default:
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// A value for the stderr format's `key=value`: escaped, and put in double quotes when it is
    /// empty or holds a blank, `=` or a quote (so the field cannot be split or forged).
    public static func fieldValue(_ text: String) -> String {
        let escapedText = escaped(text)
        guard text.isEmpty || text.unicodeScalars.contains(where: { $0 == " " || $0 == "\"" || $0 == "=" }) else {
            return escapedText
        }
        return "\"" + escapedText + "\""
    }

    private static func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || scalar.value == 0x7F || scalar == "\\" || scalar == "\""
            || isUnicodeControlOrSeparator(scalar)
    }

    private static func isUnicodeControlOrSeparator(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x80...0x9F, 0x2028, 0x2029: return true
        // Bidirectional formatting (LRM/RLM, embeddings and overrides, isolates): they reorder
        // how a terminal shows the rest of the line.
        case 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069: return true
        default: return false
        }
    }

    private static func hex(_ value: UInt32, width: Int) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
