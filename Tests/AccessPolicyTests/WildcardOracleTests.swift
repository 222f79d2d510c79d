import Testing

@testable import AccessPolicy

/// The matcher is iterative; MariaDB's `wild_case_compare()` (sql_acl.cc) and `wild_compare()`
/// (mysys/mf_wcomp.c) are recursive. These oracles follow the server's control flow step by step
/// (NUL-terminated strings, `\` escapes, the signed `char cmp`), and random small inputs must
/// give the same answer.
@Suite("Wildcard matcher agrees with the server's recursive algorithms")
struct WildcardOracleTests {
    private static func at(_ a: [UInt8], _ i: Int) -> UInt8 { i < a.count ? a[i] : 0 }
    private static let many = UInt8(ascii: "%"), one = UInt8(ascii: "_"), prefix = UInt8(ascii: "\\")

    /// wild_case_compare(system_charset_info, str, wildstr): 0 = match.
    static func serverCaseCompare(_ str: [UInt8], _ s0: Int, _ wild: [UInt8], _ w0: Int) -> Int {
        var s = s0
        var w = w0
        while at(wild, w) != 0 {
            while at(wild, w) != 0 && at(wild, w) != many && at(wild, w) != one {
                if at(wild, w) == prefix && at(wild, w + 1) != 0 { w += 1 }
                if ASCII.uppercased(at(wild, w)) != ASCII.uppercased(at(str, s)) { return 1 }
                w += 1
                s += 1
            }
            if at(wild, w) == 0 { return at(str, s) != 0 ? 1 : 0 }
            let wildcard = at(wild, w)
            w += 1
            if wildcard == one {
                if at(str, s) == 0 { return 1 }
                s += 1
                continue
            }
            if at(wild, w) == 0 { return 0 }
            let flag = at(wild, w) != many && at(wild, w) != one
            while true {
                if flag {
                    var cmp = at(wild, w)
                    if cmp == prefix && at(wild, w + 1) != 0 { cmp = at(wild, w + 1) }
                    // `char cmp = my_toupper(cs, cmp)`: signed, compared with an unsigned byte.
                    let signedCmp = Int(Int8(bitPattern: ASCII.uppercased(cmp)))
                    while at(str, s) != 0 && Int(ASCII.uppercased(at(str, s))) != signedCmp { s += 1 }
                    if at(str, s) == 0 { return 1 }
                }
                if serverCaseCompare(str, s, wild, w) == 0 { return 0 }
                let current = at(str, s)
                s += 1
                if current == 0 { break }
            }
            return 1
        }
        return at(str, s) != 0 ? 1 : 0
    }

    /// wild_compare(str, wildstr, 0): 0 = match.
    static func serverCompare(_ str: [UInt8], _ s0: Int, _ wild: [UInt8], _ w0: Int) -> Int {
        var s = s0
        var w = w0
        while at(wild, w) != 0 {
            while at(wild, w) != 0 && at(wild, w) != many && at(wild, w) != one {
                if at(wild, w) == prefix && at(wild, w + 1) != 0 { w += 1 }
                if at(wild, w) != at(str, s) { return 1 }
                w += 1
                s += 1
            }
            if at(wild, w) == 0 { return at(str, s) != 0 ? 1 : 0 }
            let wildcard = at(wild, w)
            w += 1
            if wildcard == one {
                if at(str, s) == 0 { return 1 }
                s += 1
                continue
            }
            while at(wild, w) == many || at(wild, w) == one {
                if at(wild, w) == one {
                    let current = at(str, s)
                    s += 1
                    if current == 0 { return 1 }
                }
                w += 1
            }
            if at(wild, w) == 0 { return 0 }
            var cmp = at(wild, w)
            if cmp == prefix && at(wild, w + 1) != 0 { cmp = at(wild, w + 1) }
            while true {
                while at(str, s) != 0 && at(str, s) != cmp { s += 1 }
                if at(str, s) == 0 { return 1 }
                if serverCompare(str, s, wild, w) == 0 { return 0 }
                s += 1
            }
        }
        return at(str, s) != 0 ? 1 : 0
    }

    @Test("random patterns and strings over a tricky alphabet")
    func randomAgreement() {
        var rng = SplitMix64(seed: 0x5EED_0001)
        let patternAlphabet: [UInt8] = [0x61, 0x62, 0x41, 0x25, 0x25, 0x5F, 0x5C, 0xC3, 0xA4, 0x2E]
        let textAlphabet: [UInt8] = [0x61, 0x62, 0x41, 0x42, 0x25, 0x5F, 0x5C, 0xC3, 0xA4, 0x2E]
        var disagreements: [String] = []
        for _ in 0..<40_000 {
            let pattern = (0..<Int(rng.next() % 8)).map { _ in
                patternAlphabet[Int(rng.next() % UInt64(patternAlphabet.count))]
            }
            let text = (0..<Int(rng.next() % 8)).map { _ in textAlphabet[Int(rng.next() % UInt64(textAlphabet.count))] }
            let compiled = WildcardPattern(pattern)
            let folded = Self.serverCaseCompare(text, 0, pattern, 0) == 0
            let exact = Self.serverCompare(text, 0, pattern, 0) == 0
            if compiled.matchesCaseInsensitive(text) != folded || compiled.matchesExactly(text) != exact {
                disagreements.append("pattern \(pattern) text \(text): server \(folded)/\(exact)")
            }
        }
        #expect(disagreements.isEmpty, "\(disagreements.prefix(5))")
    }
}

/// A small deterministic PRNG so fuzz runs are reproducible.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
