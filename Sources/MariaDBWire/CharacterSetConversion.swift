/// What MariaDB does to a user name before it looks the account up: convert it from the client's
/// character set (the collation id in the HandshakeResponse or COM_CHANGE_USER) to utf8.
///
/// ASCII names are the same in every client character set MariaDB accepts. Beyond ASCII the proxy
/// converts the sets real clients use — utf8/utf8mb4, latin1 (MariaDB's latin1 is Windows-1252) and
/// binary — and reports nil for anything else, so the caller can fail closed rather than match a
/// different account than MariaDB would.
public enum CharacterSetConversion {
    /// latin1 collations: latin1_german1_ci, _swedish_ci, _danish_ci, _german2_ci, _bin, _general_ci,
    /// _general_cs, _spanish_ci.
    static let latin1Collations: Set<UInt16> = [5, 8, 15, 31, 47, 48, 49, 94]
    /// utf8mb3 and utf8mb4 collations that fit the protocol's one-byte id.
    static let utf8Collations: Set<UInt16> = Set([33, 45, 46, 76, 83, 223, 255] + Array(192...215) + Array(224...247))
    static let binaryCollation: UInt16 = 63

    /// The name as MariaDB sees it after conversion, or nil when the proxy cannot convert it exactly.
    public static func toUTF8(_ bytes: [UInt8], collation: UInt16) -> String? {
        if bytes.allSatisfy({ $0 < 0x80 }) {
            return String(decoding: bytes, as: UTF8.self)
        }
        if utf8Collations.contains(collation) || collation == binaryCollation {
            guard let text = String(validating: bytes, as: UTF8.self) else { return nil }
            return text
        }
        if latin1Collations.contains(collation) {
            return String(String.UnicodeScalarView(bytes.map(windows1252)))
        }
        return nil
    }

    /// Text for a client whose character set is latin1 (MariaDB converts messages to
    /// character_set_results); nil for every other set, which the caller sends as UTF-8.
    public static func fromUTF8(_ text: String, collation: UInt16) -> [UInt8]? {
        guard latin1Collations.contains(collation) else { return nil }
        return text.unicodeScalars.map { scalar in
            if scalar.value < 0x80 || (0xA0...0xFF).contains(scalar.value) { return UInt8(scalar.value) }
            if let index = (0x80...0x9F).first(where: { windows1252(UInt8($0)) == scalar }) { return UInt8(index) }
            return UInt8(ascii: "?")
        }
    }

    /// Windows-1252, which MariaDB calls latin1; its five unassigned bytes map to C1 controls as MariaDB does.
    private static func windows1252(_ byte: UInt8) -> Unicode.Scalar {
        let high: [UInt32] = [
            0x20AC, 0x81, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x8D, 0x017D, 0x8F,
            0x90, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x9D, 0x017E, 0x0178,
        ]
        if (0x80...0x9F).contains(byte) {
            return Unicode.Scalar(high[Int(byte) - 0x80]) ?? Unicode.Scalar(byte)
        }
        return Unicode.Scalar(byte)
    }
}
