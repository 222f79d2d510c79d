/// One line of a MariaDB option file, classified the way MariaDB's `my_default.c` reads it.
///
/// Rules (all from `my_default.c`):
/// - leading blanks are skipped; a line whose first character is `#` or `;` is a comment;
/// - `!include PATH` / `!includedir DIR`: the keyword must be followed by a blank; the rest of the line
///   (trimmed, no comment removal) is the path;
/// - `[name]` starts a group; blanks inside the brackets are trimmed and text after `]` is ignored;
/// - otherwise `name`, or `name = value`: a `#` outside quotes ends the line, blanks around name and value
///   are trimmed, matching quotes around the whole value are removed, and the escapes
///   `\b \t \n \r \" \' \\ \s` are replaced in the value (an unknown escape keeps its backslash).
enum OptionFileLine: Equatable {
    case ignorable
    case group(String)
    case include(String)
    case includeDirectory(String)
    case option(name: String, value: String?)

    private typealias Scalars = ArraySlice<Unicode.Scalar>

    static func parse(_ line: Substring) throws(ConfigurationProblem) -> OptionFileLine {
        let scalars = Array(line.unicodeScalars)[...]
        guard let start = scalars.firstIndex(where: { !$0.isOptionFileSpace }) else { return .ignorable }
        let rest = scalars[start...]
        switch rest.first! {
        case "#", ";": return .ignorable
        case "!": return try directive(rest)
        case "[": return try group(rest.dropFirst())
        default: return try option(rest)
        }
    }

    private static func directive(_ text: Scalars) throws(ConfigurationProblem) -> OptionFileLine {
        // `!includedir` first: `!include` is its prefix (the required blank keeps them apart anyway).
        for keyword in ["!includedir", "!include"] {
            let keywordScalars = Array(keyword.unicodeScalars)
            guard text.starts(with: keywordScalars) else { continue }
            let after = text.dropFirst(keywordScalars.count)
            guard after.first.map(\.isOptionFileSpace) ?? true else { continue }
            let path = string(after).trimmingSpaces()
            guard !path.isEmpty else {
                throw ConfigurationProblem(
                    keyword == "!include" ? "'!include' needs a file name" : "'!includedir' needs a directory name"
                )
            }
            return keyword == "!include" ? .include(path) : .includeDirectory(path)
        }
        let word = string(text.prefix(while: { !$0.isOptionFileSpace }))
        throw ConfigurationProblem("unknown directive '\(word)' (expected '!include' or '!includedir')")
    }

    private static func group(_ text: Scalars) throws(ConfigurationProblem) -> OptionFileLine {
        guard let close = text.firstIndex(of: "]") else {
            throw ConfigurationProblem("wrong group definition: missing ']'")
        }
        return .group(string(text[..<close]).trimmingSpaces())
    }

    private static func option(_ text: Scalars) throws(ConfigurationProblem) -> OptionFileLine {
        let content = removingEndComment(text)
        guard let equals = content.firstIndex(of: "=") else {
            return .option(name: string(content).trimmingSpaces(), value: nil)
        }
        let name = string(content[..<equals]).trimmingSpaces()
        guard !name.isEmpty else { throw ConfigurationProblem("missing option name before '='") }
        return .option(name: name, value: unescaped(unquoted(string(content[(equals + 1)...]).trimmingSpaces())))
    }

    /// Cuts the line at the first `#` outside single or double quotes; a backslash escapes a quote
    /// only inside quotes (MariaDB's `remove_end_comment`). An unmatched quote runs to the end of the line.
    private static func removingEndComment(_ text: Scalars) -> Scalars {
        var quote: Unicode.Scalar?
        var escaped = false
        for index in text.indices {
            let scalar = text[index]
            if (scalar == "'" || scalar == "\"") && !escaped {
                if quote == nil { quote = scalar } else if quote == scalar { quote = nil }
            }
            if quote == nil && scalar == "#" { return text[..<index] }
            escaped = quote != nil && scalar == "\\" && !escaped
        }
        return text
    }

    /// Removes one pair of identical quotes enclosing the whole (already trimmed) value.
    private static func unquoted(_ value: String) -> String {
        let scalars = Array(value.unicodeScalars)
        guard scalars.count >= 2, let first = scalars.first, first == "'" || first == "\"", scalars.last == first else {
            return value
        }
        return string(scalars[1..<(scalars.count - 1)])
    }

    /// Replaces MariaDB's escape sequences; quoted or not, like `my_default.c`.
    private static func unescaped(_ value: String) -> String {
        let scalars = Array(value.unicodeScalars)
        var result = String.UnicodeScalarView()
        var index = 0
        while index < scalars.count {
            let scalar = scalars[index]
            // A trailing lone backslash is kept as is.
            guard scalar == "\\", index + 1 < scalars.count else {
                result.append(scalar)
                index += 1
                continue
            }
            let next = scalars[index + 1]
            switch next {
            case "b": result.append("\u{08}")
            case "t": result.append("\t")
            case "n": result.append("\n")
            case "r": result.append("\r")
            case "s": result.append(" ")
            case "\"", "'", "\\": result.append(next)
            default: result.append(contentsOf: ["\\", next])
            }
            index += 2
        }
        return String(result)
    }

    private static func string<S: Sequence<Unicode.Scalar>>(_ scalars: S) -> String {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars)
        return String(view)
    }
}
