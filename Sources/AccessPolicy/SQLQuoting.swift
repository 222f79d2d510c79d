/// Quoting of string values the way MariaDB prints them back (`append_unescaped()` in
/// `sql/table.cc`, used by SHOW CREATE USER and SHOW GRANTS).
enum SQLQuoting {
    /// `'…'` with `\` doubled, `'` doubled, and NUL, newline and carriage return escaped as
    /// `\0`, `\n`, `\r`; every other character (tab, ^Z, non-ASCII) is written as is.
    static func singleQuoted(_ value: String) -> String {
        var out = "'"
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\0": out += "\\0"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\\": out += "\\\\"
            case "'": out += "''"
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "'"
        return out
    }
}
