/// Dotted-quad parsing exactly as MariaDB's `calc_ip()` does it with `str2int()`.
enum IPv4Address {
    /// Parses `a.b.c.d` followed by `end` (or the end of input when `end` is nil) and returns
    /// the value and the index just past the last digit. Each part: optional leading blanks, an
    /// optional sign, decimal digits, 0…255 (so "-0" is 0 but "-1" fails), as `str2int` accepts.
    static func calcIP(_ bytes: ArraySlice<UInt8>, end: UInt8?) -> (value: UInt32, next: Int)? {
        var index = bytes.startIndex
        var value: UInt32 = 0
        for part in 0..<4 {
            guard let (octet, next) = str2int(bytes, from: index) else { return nil }
            value = value << 8 | octet
            index = next
            let terminator: UInt8? = part < 3 ? UInt8(ascii: ".") : end
            if let terminator {
                guard index < bytes.endIndex, bytes[index] == terminator else { return nil }
                if part < 3 { index += 1 }
            } else if index != bytes.endIndex {
                return nil
            }
        }
        return (value, index)
    }

    /// A whole string that is exactly a dotted quad (as `calc_ip(ip, &val, '\0')`).
    static func parseDottedQuad(_ text: String) -> UInt32? {
        let bytes = Array(text.utf8)
        return calcIP(bytes[...], end: nil)?.value
    }

    /// `str2int(src, 10, 0, 255, &val)`.
    private static func str2int(_ bytes: ArraySlice<UInt8>, from start: Int) -> (UInt32, Int)? {
        var index = start
        while index < bytes.endIndex, ASCII.isSpace(bytes[index]) { index += 1 }
        var negative = false
        if index < bytes.endIndex, bytes[index] == UInt8(ascii: "+") {
            index += 1
        } else if index < bytes.endIndex, bytes[index] == UInt8(ascii: "-") {
            negative = true
            index += 1
        }
        let digitsStart = index
        while index < bytes.endIndex, bytes[index] == UInt8(ascii: "0") { index += 1 }
        var value: UInt32 = 0
        var significant = 0
        // str2int converts at most 20 significant digits; anything beyond stops the number.
        while index < bytes.endIndex, ASCII.isDigit(bytes[index]), significant < 20 {
            value = min(value &* 10 &+ UInt32(bytes[index] - 0x30), 100_000)
            significant += 1
            index += 1
        }
        guard index > digitsStart else { return nil }
        if significant > 3 || value > 255 { return nil }
        if negative && value != 0 { return nil }
        return (value, index)
    }
}
