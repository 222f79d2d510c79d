/// What MariaDB does to a user name before it looks the account up: convert it from the client's
/// character set (the collation id in the HandshakeResponse or COM_CHANGE_USER) to utf8mb3
/// (`copy_and_convert()` into a USERNAME_LENGTH buffer, sql/sql_acl.cc).
///
/// The proxy converts exactly where it can — ASCII in every ASCII-compatible set, swe7,
/// utf8mb3/utf8mb4 (BMP characters), latin1 (MariaDB's latin1 is Windows-1252) and binary — and
/// otherwise reports the name as inexact, so the caller fails closed rather than match a
/// different account than MariaDB would.
public enum CharacterSetConversion {
    /// latin1 collations: latin1_german1_ci, _swedish_ci, _danish_ci, _german2_ci, _bin, _general_ci,
    /// _general_cs, _spanish_ci.
    static let latin1Collations: Set<UInt16> = Set(
        (0...255).filter { MariaDBCollations.characterSet(ofCollation: $0) == "latin1" }
    )
    /// MariaDB's USERNAME_LENGTH: the bytes of utf8mb3 the converted name may occupy.
    public static let usernameBufferBytes = 384

    /// The outcome of converting a user name.
    public enum Conversion: Sendable, Equatable {
        /// The name exactly as MariaDB sees it.
        case exact(String)
        /// The proxy cannot reproduce MariaDB's conversion; the string is only a lossy rendering
        /// for logs and messages.
        case inexact(String)
        /// MariaDB refuses this character set as character_set_client (ucs2, utf16, utf16le,
        /// utf32): its name, for ER_WRONG_VALUE_FOR_VAR.
        case refusedCharacterSet(String)

        /// The converted (or rendered) name.
        public var name: String {
            switch self {
            case .exact(let name), .inexact(let name): return name
            case .refusedCharacterSet: return ""
            }
        }

        public var isExact: Bool {
            if case .exact = self { return true }
            return false
        }
    }

    /// The character sets MariaDB will not take as character_set_client (sql/sql_connect.cc
    /// thd_init_client_charset: is_supported_parser_charset() rejects mbminlen > 1).
    public static let unsupportedClientCharacterSets: Set<String> = ["ucs2", "utf16", "utf16le", "utf32"]

    /// Converts a user name as MariaDB 10.11 does.
    ///
    /// Beyond ASCII a name is exact only when the backend cannot read it any other way. MariaDB
    /// converts with the client's character set only while `character_set_client_handshake` is
    /// ON; with it OFF, for an id it does not know, and when the client sends no id at all, it uses
    /// its global `character_set_client`, which the greeting does not show (it shows the server's
    /// default). So a non-ASCII name is exact only if it reads the same in the client's set and in
    /// the greeting's, and never when the client sent no id.
    /// - Parameters:
    ///   - collation: the id the client sent, or nil when it sent none (pre-4.1 logins, COM_CHANGE_USER
    ///     without the field).
    ///   - serverDefaultCollation: the backend greeting's collation id (the server's default character set).
    public static func convertUsername(
        _ bytes: [UInt8],
        collation: UInt16?,
        serverDefaultCollation: UInt16?
    ) -> Conversion {
        let fallback = serverDefaultCollation.flatMap { MariaDBCollations.characterSet(ofCollation: $0) }
        let isASCII = bytes.allSatisfy { $0 < 0x80 }
        let rendering = String(decoding: bytes, as: UTF8.self)
        guard let collation, let declared = MariaDBCollations.characterSet(ofCollation: collation) else {
            // No id, or one MariaDB 10.11 does not know: the backend's global character_set_client.
            // ASCII reads the same in every set it may be, except swe7.
            guard isASCII else { return .inexact(rendering) }
            if fallback == "swe7", let converted = toUTF8(bytes, characterSet: "swe7") {
                return .exact(clipToBuffer(converted))
            }
            return .exact(clipToBuffer(rendering))
        }
        if unsupportedClientCharacterSets.contains(declared) { return .refusedCharacterSet(declared) }
        guard let converted = toUTF8(bytes, characterSet: declared) else { return .inexact(rendering) }
        if !isASCII || declared == "swe7" || fallback == "swe7" {
            // The same name as a backend without the character set handshake would read it?
            guard let fallback, !unsupportedClientCharacterSets.contains(fallback),
                toUTF8(bytes, characterSet: fallback) == converted
            else { return .inexact(converted) }
        }
        return .exact(clipToBuffer(converted))
    }

    private static func asciiOnly(_ bytes: [UInt8]) -> Conversion {
        let text = String(decoding: bytes, as: UTF8.self)
        return bytes.allSatisfy({ $0 < 0x80 }) ? .exact(clipToBuffer(text)) : .inexact(text)
    }

    /// The name in `characterSet` as utf8mb3 text, or nil when the proxy cannot convert it exactly.
    static func toUTF8(_ bytes: [UInt8], characterSet: String) -> String? {
        switch characterSet {
        case "swe7":
            return String(String.UnicodeScalarView(bytes.map(swe7)))
        case "utf8mb3", "utf8mb4":
            // MariaDB turns invalid bytes and 4-byte characters (not in utf8mb3) into '?': not reproduced.
            guard let text = String(validating: bytes, as: UTF8.self),
                text.unicodeScalars.allSatisfy({ $0.value <= 0xFFFF })
            else { return nil }
            return text
        case "latin1":
            return String(String.UnicodeScalarView(bytes.map(windows1252)))
        case "binary":
            // my_mb_wc_bin: each byte is the code point of the same value.
            return String(String.UnicodeScalarView(bytes.map { Unicode.Scalar($0) }))
        default:
            // Every other set MariaDB 10.11 ships maps bytes below 0x80 to ASCII (checked against the
            // server for each one); beyond that the proxy does not convert.
            guard bytes.allSatisfy({ $0 < 0x80 }) else { return nil }
            return String(decoding: bytes, as: UTF8.self)
        }
    }

    /// copy_and_convert() stops at the last whole character that fits the 384-byte buffer.
    static func clipToBuffer(_ text: String) -> String {
        guard text.utf8.count > usernameBufferBytes else { return text }
        var scalars = String.UnicodeScalarView()
        var used = 0
        for scalar in text.unicodeScalars {
            let size = String(scalar).utf8.count
            if used + size > usernameBufferBytes { break }
            used += size
            scalars.append(scalar)
        }
        return String(scalars)
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
            0x20AC, 0x81, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x8D,
            0x017D, 0x8F,
            0x90, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x9D,
            0x017E, 0x0178,
        ]
        if (0x80...0x9F).contains(byte) {
            return Unicode.Scalar(high[Int(byte) - 0x80]) ?? Unicode.Scalar(byte)
        }
        return Unicode.Scalar(byte)
    }

    /// swe7 (strings/ctype-extra.c): 7-bit Swedish, where `@[\]^`{|}~` are letters; 0x7F and every
    /// byte from 0x80 have no mapping and become '?' (checked against the server byte by byte).
    private static func swe7(_ byte: UInt8) -> Unicode.Scalar {
        switch byte {
        case 0x40: return "\u{C9}"  // É
        case 0x5B: return "\u{C4}"  // Ä
        case 0x5C: return "\u{D6}"  // Ö
        case 0x5D: return "\u{C5}"  // Å
        case 0x5E: return "\u{DC}"  // Ü
        case 0x60: return "\u{E9}"  // é
        case 0x7B: return "\u{E4}"  // ä
        case 0x7C: return "\u{F6}"  // ö
        case 0x7D: return "\u{E5}"  // å
        case 0x7E: return "\u{FC}"  // ü
        case 0x7F...: return "?"
        default: return Unicode.Scalar(byte)
        }
    }
}
