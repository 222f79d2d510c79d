extension StoredCredential {
    /// Why an authentication string cannot be read; never contains the string itself.
    struct DecodingError: Error {
        var message: String
    }

    /// Decodes `authentication_string` as the plugin's `preprocess_hash` does. An empty string
    /// is a passwordless method; plugins the proxy does not know keep the raw bytes, as MariaDB
    /// does for plugins without `preprocess_hash`.
    static func decode(plugin: String, authenticationString text: String) throws(DecodingError) -> StoredCredential {
        let plugin = plugin.lowercased()
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty else { return StoredCredential(plugin: plugin, salt: []) }
        switch plugin {
        case nativePassword:
            // sql/sql_acl.cc native_password_get_salt(): '*' and 40 hex digits. 'invalid' (as
            // mysql_install_db writes for root) or 41 characters that are not all hex mark a
            // password no login can match: no credential. Any other length is ER_PASSWD_LENGTH.
            if text == "invalid" { return StoredCredential(plugin: plugin, salt: nil) }
            guard bytes.count == 41 else {
                throw DecodingError(
                    message:
                        "the mysql_native_password hash must be '*' followed by 40 hexadecimal digits, as SHOW CREATE USER prints it"
                )
            }
            return StoredCredential(plugin: plugin, salt: hexDecode(bytes[1...]))
        case ed25519:
            // plugin/auth_ed25519/server_ed25519.c digest_to_binary(): 43 base64 characters, no padding.
            guard bytes.count == 43, let key = base64Decode(bytes[...]), key.count == 32 else {
                throw DecodingError(
                    message: "the ed25519 public key must be 43 base64 characters, as SHOW CREATE USER prints it"
                )
            }
            return StoredCredential(plugin: plugin, salt: key)
        case parsec:
            // plugin/auth_parsec/server_parsec.cc digest_to_binary(): P<0-3>:<24 base64>:<43 base64>.
            guard bytes.count == 71, bytes[0] == UInt8(ascii: "P"),
                (UInt8(ascii: "0")...UInt8(ascii: "3")).contains(bytes[1]),
                bytes[2] == UInt8(ascii: ":"), bytes[27] == UInt8(ascii: ":"),
                let salt = base64Decode(bytes[3..<27]), salt.count == 18,
                let key = base64Decode(bytes[28..<71]), key.count == 32
            else {
                throw DecodingError(
                    message:
                        "the parsec credential must read P<0-3>:<24 base64 characters>:<43 base64 characters>, as SHOW CREATE USER prints it"
                )
            }
            return StoredCredential(
                plugin: plugin,
                salt: [UInt8(ascii: "P"), bytes[1] - UInt8(ascii: "0")] + salt + key
            )
        default:
            return StoredCredential(plugin: plugin, salt: bytes)
        }
    }

    private static func hexDecode(_ digits: ArraySlice<UInt8>) -> [UInt8]? {
        guard digits.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(digits.count / 2)
        var high: UInt8?
        for digit in digits {
            guard let value = hexValue(digit) else { return nil }
            if let h = high {
                out.append(h << 4 | value)
                high = nil
            } else {
                high = value
            }
        }
        return out
    }

    private static func hexValue(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return digit - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    /// Standard-alphabet base64 without padding (mysys/base64.c my_base64_decode, as the
    /// plugins call it after restoring the padding). Nil on any other character, or on bits
    /// left over in the last character, which no encoder produces.
    static func base64Decode(_ characters: ArraySlice<UInt8>) -> [UInt8]? {
        var out: [UInt8] = []
        var accumulator: UInt32 = 0
        var bits = 0
        for character in characters {
            let value: UInt8
            switch character {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): value = character - UInt8(ascii: "A")
            case UInt8(ascii: "a")...UInt8(ascii: "z"): value = character - UInt8(ascii: "a") + 26
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = character - UInt8(ascii: "0") + 52
            case UInt8(ascii: "+"): value = 62
            case UInt8(ascii: "/"): value = 63
            default: return nil
            }
            accumulator = accumulator << 6 | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
                accumulator &= (1 << UInt32(bits)) - 1
            }
        }
        guard bits < 6, accumulator == 0 else { return nil }
        return out
    }
}
