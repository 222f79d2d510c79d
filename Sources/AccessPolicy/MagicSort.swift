/// MariaDB's `get_magic_sort("hu", host, user)` (`sql/sql_acl_getsort.inl`): a number that,
/// sorted descending, puts the most specific host patterns first.
///
/// For the host it counts N literal bytes, M `_`, K runs of `%`, and P, the literal prefix
/// before the first wildcard. With L = 255 − N − M when there is a `%` (else 0), the "magic"
/// (smaller = more specific) is `(((L·2+1)·256 + K)·32 + M)·256 + P` when L > M, otherwise
/// `((M·2·256 + L)·32 + K)·256 + P` (K and M capped at 31). The user adds one low bit when it
/// is empty (anonymous), and the whole value is bit-inverted.
enum MagicSort {
    /// `max_hostname_length` = HOSTNAME_LENGTH = 255 in 10.11 (`Host char(255)`).
    static let maxHostnameLength: UInt32 = 255
    static let magicBits: UInt64 = 30

    static func userHostSort(host: [UInt8], userIsEmpty: Bool) -> UInt64 {
        var sort = hostMagic(host)
        sort = (sort << 1) &+ (userIsEmpty ? 1 : 0)
        return ~sort
    }

    static func hostMagic(_ pattern: [UInt8]) -> UInt64 {
        // uint arithmetic in the server; wrapping here so no input can trap.
        var n: UInt32 = 0
        var m: UInt32 = 0
        var k: UInt32 = 0
        var p: UInt32 = 0
        var i = 0
        while i < pattern.count {
            let byte = pattern[i]
            if byte == UInt8(ascii: "%") {
                if k == 0 && m == 0 { p = n }
                k &+= 1
                while i + 1 < pattern.count, pattern[i + 1] == UInt8(ascii: "%") { i += 1 }
                i += 1
                continue
            }
            if byte == UInt8(ascii: "_") {
                if k == 0 && m == 0 { p = n }
                m &+= 1
                i += 1
                continue
            }
            if byte == UInt8(ascii: "\\"), i + 1 < pattern.count { i += 1 }
            n &+= 1
            i += 1
        }
        k = min(k, 31)
        m = min(m, 31)
        let maxlen = maxHostnameLength
        let l = UInt64(k != 0 ? maxlen &- n &- m : 0)
        let d = UInt64(maxlen + 1)
        let d1 = min(d, 32)
        let bigM = UInt64(m)
        let bigK = UInt64(k)
        let bigP = UInt64(p)
        if l > bigM {
            return (((l &* 2 &+ 1) &* d &+ bigK) &* d1 &+ bigM) &* d &+ bigP
        } else {
            return (((bigM &* 2) &* d &+ l) &* d1 &+ bigK) &* d &+ bigP
        }
    }
}
