/// MariaDB/MySQL capability flags, as exchanged in the greeting, the SSLRequest and the HandshakeResponse.
///
/// Bits 0–31 are the classic capability word. Bits 32–63 are MariaDB's extended capabilities, which travel in
/// a separate 4-byte field and are only meaningful when bit 0 (``clientMySQL``) is clear: a MariaDB server never
/// sets bit 0, and a MariaDB client that clears it is announcing that it sent the extended word.
public struct CapabilityFlags: OptionSet, Sendable, Hashable {
    public var rawValue: UInt64

    public init(rawValue: UInt64) {
        self.rawValue = rawValue
    }

    /// Builds flags from the two 32-bit wire words.
    public init(lower: UInt32, extended: UInt32 = 0) {
        self.rawValue = UInt64(lower) | (UInt64(extended) << 32)
    }

    /// The classic 32-bit capability word (bits 0–31).
    public var lowerWord: UInt32 { UInt32(truncatingIfNeeded: rawValue) }

    /// The MariaDB extended capability word (bits 32–63).
    public var extendedWord: UInt32 { UInt32(truncatingIfNeeded: rawValue >> 32) }

    /// True when the extended word is meaningful on the wire (bit 0 clear).
    public var carriesMariaDBExtendedCapabilities: Bool { !contains(.clientMySQL) }

    /// CLIENT_MYSQL, a.k.a. CLIENT_LONG_PASSWORD. Clear ⇒ MariaDB extended caps are present.
    public static let clientMySQL = CapabilityFlags(rawValue: 1 << 0)
    public static let foundRows = CapabilityFlags(rawValue: 1 << 1)
    public static let longFlag = CapabilityFlags(rawValue: 1 << 2)
    public static let connectWithDB = CapabilityFlags(rawValue: 1 << 3)
    public static let noSchema = CapabilityFlags(rawValue: 1 << 4)
    public static let compress = CapabilityFlags(rawValue: 1 << 5)
    public static let odbc = CapabilityFlags(rawValue: 1 << 6)
    public static let localFiles = CapabilityFlags(rawValue: 1 << 7)
    public static let ignoreSpace = CapabilityFlags(rawValue: 1 << 8)
    public static let protocol41 = CapabilityFlags(rawValue: 1 << 9)
    public static let interactive = CapabilityFlags(rawValue: 1 << 10)
    public static let ssl = CapabilityFlags(rawValue: 1 << 11)
    public static let ignoreSigpipe = CapabilityFlags(rawValue: 1 << 12)
    public static let transactions = CapabilityFlags(rawValue: 1 << 13)
    public static let reserved = CapabilityFlags(rawValue: 1 << 14)
    public static let secureConnection = CapabilityFlags(rawValue: 1 << 15)
    public static let multiStatements = CapabilityFlags(rawValue: 1 << 16)
    public static let multiResults = CapabilityFlags(rawValue: 1 << 17)
    public static let psMultiResults = CapabilityFlags(rawValue: 1 << 18)
    public static let pluginAuth = CapabilityFlags(rawValue: 1 << 19)
    public static let connectAttrs = CapabilityFlags(rawValue: 1 << 20)
    public static let pluginAuthLenencClientData = CapabilityFlags(rawValue: 1 << 21)
    public static let canHandleExpiredPasswords = CapabilityFlags(rawValue: 1 << 22)
    public static let sessionTrack = CapabilityFlags(rawValue: 1 << 23)
    public static let deprecateEOF = CapabilityFlags(rawValue: 1 << 24)
    /// MySQL 8 client feature; a MariaDB server never advertises it.
    public static let zstdCompression = CapabilityFlags(rawValue: 1 << 26)
    public static let progressObsolete = CapabilityFlags(rawValue: 1 << 29)
    /// Has no wire meaning; MariaDB servers never advertise it.
    public static let sslVerifyServerCert = CapabilityFlags(rawValue: 1 << 30)
    public static let rememberOptions = CapabilityFlags(rawValue: 1 << 31)
    public static let mariaDBProgress = CapabilityFlags(rawValue: 1 << 32)
    /// MARIADB_CLIENT_COM_MULTI in 10.2–10.5 servers (reserved since 10.6): the server accepts COM_MULTI.
    public static let mariaDBReserved1 = CapabilityFlags(rawValue: 1 << 33)
    /// The same bit under its 10.2–10.5 name.
    public static let mariaDBComMulti = mariaDBReserved1
    public static let mariaDBStmtBulkOperations = CapabilityFlags(rawValue: 1 << 34)
    public static let mariaDBExtendedMetadata = CapabilityFlags(rawValue: 1 << 35)
    public static let mariaDBCacheMetadata = CapabilityFlags(rawValue: 1 << 36)
    public static let mariaDBBulkUnitResults = CapabilityFlags(rawValue: 1 << 37)

    /// Every named flag with its MariaDB source name, lowest bit first (used for descriptions).
    public static let allNamed: [(flag: CapabilityFlags, name: String)] = [
        (.clientMySQL, "CLIENT_MYSQL"), (.foundRows, "FOUND_ROWS"), (.longFlag, "LONG_FLAG"),
        (.connectWithDB, "CONNECT_WITH_DB"), (.noSchema, "NO_SCHEMA"), (.compress, "COMPRESS"), (.odbc, "ODBC"),
        (.localFiles, "LOCAL_FILES"), (.ignoreSpace, "IGNORE_SPACE"), (.protocol41, "PROTOCOL_41"),
        (.interactive, "INTERACTIVE"), (.ssl, "SSL"), (.ignoreSigpipe, "IGNORE_SIGPIPE"),
        (.transactions, "TRANSACTIONS"), (.reserved, "RESERVED"), (.secureConnection, "SECURE_CONNECTION"),
        (.multiStatements, "MULTI_STATEMENTS"), (.multiResults, "MULTI_RESULTS"),
        (.psMultiResults, "PS_MULTI_RESULTS"), (.pluginAuth, "PLUGIN_AUTH"), (.connectAttrs, "CONNECT_ATTRS"),
        (.pluginAuthLenencClientData, "PLUGIN_AUTH_LENENC_CLIENT_DATA"),
        (.canHandleExpiredPasswords, "CAN_HANDLE_EXPIRED_PASSWORDS"), (.sessionTrack, "SESSION_TRACK"),
        (.deprecateEOF, "DEPRECATE_EOF"), (.zstdCompression, "ZSTD_COMPRESSION"),
        (.progressObsolete, "PROGRESS_OBSOLETE"), (.sslVerifyServerCert, "SSL_VERIFY_SERVER_CERT"),
        (.rememberOptions, "REMEMBER_OPTIONS"), (.mariaDBProgress, "MARIADB_CLIENT_PROGRESS"),
        (.mariaDBReserved1, "MARIADB_CLIENT_RESERVED_1"),
        (.mariaDBStmtBulkOperations, "MARIADB_CLIENT_STMT_BULK_OPERATIONS"),
        (.mariaDBExtendedMetadata, "MARIADB_CLIENT_EXTENDED_METADATA"),
        (.mariaDBCacheMetadata, "MARIADB_CLIENT_CACHE_METADATA"),
        (.mariaDBBulkUnitResults, "MARIADB_CLIENT_BULK_UNIT_RESULTS"),
    ]
}

extension CapabilityFlags: CustomStringConvertible {
    /// E.g. `0x81bf_f7fe [FOUND_ROWS|...|bit27]`; unnamed bits are shown as `bitN`.
    public var description: String {
        var names: [String] = []
        var remaining = rawValue
        for (flag, name) in Self.allNamed where contains(flag) {
            names.append(name)
            remaining &= ~flag.rawValue
        }
        for bit in 0..<64 where remaining & (1 << UInt64(bit)) != 0 {
            names.append("bit\(bit)")
        }
        return "0x" + String(rawValue, radix: 16) + " [" + names.joined(separator: "|") + "]"
    }
}
