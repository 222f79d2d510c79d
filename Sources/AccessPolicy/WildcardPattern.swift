/// A MariaDB host pattern compiled for matching: `%` any run, `_` exactly one byte, `\x` a
/// literal `x` (a trailing `\` is itself). Works on UTF-8 bytes, as the server does.
///
/// The server's `wild_case_compare()` / `wild_compare()` are recursive and can take exponential
/// time on patterns like `%a%a%a…`; this matcher gives the same answers in O(pattern × text).
struct WildcardPattern: Sendable, Equatable {
    enum Element: Sendable, Equatable {
        case literal(UInt8)
        case one
        case many
    }

    let elements: [Element]
    /// `wild_case_compare()` keeps the byte after a `%` in a signed `char` and compares it with
    /// an unsigned upper-cased byte, so a `%` followed by a literal byte ≥ 0x80 never matches a
    /// host name. Reproduced here (it does not affect `wild_compare()` against the IP).
    let caseInsensitiveNeverMatches: Bool

    init(_ pattern: [UInt8]) {
        var elements: [Element] = []
        var quirk = false
        var index = 0
        while index < pattern.count {
            let byte = pattern[index]
            if byte == UInt8(ascii: "%") {
                // What wild_case_compare takes as `cmp` for this '%'.
                let nextIndex = index + 1
                if nextIndex < pattern.count {
                    var next = pattern[nextIndex]
                    if next == UInt8(ascii: "\\"), nextIndex + 1 < pattern.count { next = pattern[nextIndex + 1] }
                    let isWild = pattern[nextIndex] == UInt8(ascii: "%") || pattern[nextIndex] == UInt8(ascii: "_")
                    if !isWild && next >= 0x80 { quirk = true }
                }
                if elements.last != .many { elements.append(.many) }
            } else if byte == UInt8(ascii: "_") {
                elements.append(.one)
            } else if byte == UInt8(ascii: "\\"), index + 1 < pattern.count {
                index += 1
                elements.append(.literal(pattern[index]))
            } else {
                elements.append(.literal(byte))
            }
            index += 1
        }
        self.elements = elements
        self.caseInsensitiveNeverMatches = quirk
    }

    /// `wild_case_compare(system_charset_info, text, pattern) == 0` (ASCII case-insensitive).
    func matchesCaseInsensitive(_ text: [UInt8]) -> Bool {
        if caseInsensitiveNeverMatches { return false }
        return matches(text, fold: true)
    }

    /// `wild_compare(text, pattern, 0) == 0` (byte-exact).
    func matchesExactly(_ text: [UInt8]) -> Bool {
        matches(text, fold: false)
    }

    /// Greedy matching with backtracking to the last `%`: correct for `%`/`_` globs and linear
    /// in the common case, O(n·m) at worst.
    private func matches(_ text: [UInt8], fold: Bool) -> Bool {
        var p = 0
        var t = 0
        var starP = -1
        var starT = 0
        while t < text.count {
            if p < elements.count {
                switch elements[p] {
                case .many:
                    starP = p
                    starT = t
                    p += 1
                    continue
                case .one:
                    p += 1
                    t += 1
                    continue
                case .literal(let byte):
                    let equal = fold ? ASCII.uppercased(byte) == ASCII.uppercased(text[t]) : byte == text[t]
                    if equal {
                        p += 1
                        t += 1
                        continue
                    }
                }
            }
            guard starP >= 0 else { return false }
            p = starP + 1
            starT += 1
            t = starT
        }
        while p < elements.count, elements[p] == .many { p += 1 }
        return p == elements.count
    }
}
