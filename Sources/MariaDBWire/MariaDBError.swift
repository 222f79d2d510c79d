/// The MariaDB errors the proxy sends, with codes, SQLSTATEs and message texts as MariaDB prints them
/// (sql/share/errmsg-utf8.txt; sql/protocol.cc net_send_error_packet).
public enum MariaDBError: Sendable {
    /// 1040 (08004) `Too many connections`. Sent at seq 0 in place of the greeting, where MariaDB writes no
    /// SQLSTATE marker: encode it with `encode(includeSQLState: false)`.
    public static func tooManyConnections() -> ERRPacket {
        ERRPacket(code: 1040, sqlState: "08004", message: "Too many connections")
    }

    /// 1156 (08S01) `Got packets out of order`: a packet with an unexpected sequence id.
    public static func packetsOutOfOrder() -> ERRPacket {
        ERRPacket(code: 1156, sqlState: "08S01", message: "Got packets out of order")
    }

    /// 1043 (08S01) `Bad handshake`: malformed login packets and failed TLS handshakes.
    public static func badHandshake() -> ERRPacket {
        ERRPacket(code: 1043, sqlState: "08S01", message: "Bad handshake")
    }

    /// 1047 (08S01) `Unknown command`: what MariaDB 10.6+ answers to a command byte it does not know
    /// (sql/sql_parse.cc dispatch_command, default case), e.g. COM_MULTI; also every COM_CHANGE_USER
    /// after three refused ones, and one it cannot parse.
    public static func unknownCommand() -> ERRPacket {
        ERRPacket(code: 1047, sqlState: "08S01", message: "Unknown command")
    }

    /// 1231 (42000) `Variable 'v' can't be set to the value of 'x'` (ER_WRONG_VALUE_FOR_VAR): MariaDB's answer to a
    /// login or COM_CHANGE_USER whose character set cannot be character_set_client (ucs2, utf16, utf16le, utf32;
    /// sql/sql_connect.cc thd_init_client_charset).
    public static func wrongValueForVariable(_ variable: String, value: String) -> ERRPacket {
        ERRPacket(
            code: 1231,
            sqlState: "42000",
            message: "Variable '\(clip(variable, to: 64))' can't be set to the value of '\(clip(value, to: 200))'"
        )
    }

    /// 1045 (28000) `Access denied for user 'u'@'h' (using password: YES|NO)`. `host` is the resolved host name
    /// or the IP (`localhost` for sockets); YES when the client sent a non-empty auth response.
    public static func accessDenied(user: String, host: String, usingPassword: Bool) -> ERRPacket {
        ERRPacket(
            code: 1045,
            sqlState: "28000",
            message: "Access denied for user '\(user)'@'\(host)' (using password: \(usingPassword ? "YES" : "NO"))"
        )
    }

    /// 1698 (28000) `Access denied for user 'u'@'h'`: the variant for plugins that do not mention passwords
    /// (e.g. unix_socket).
    public static func accessDeniedWithoutPasswordMention(user: String, host: String) -> ERRPacket {
        ERRPacket(code: 1698, sqlState: "28000", message: "Access denied for user '\(user)'@'\(host)'")
    }

    /// 3159 (08004): a plaintext login while `require_secure_transport` is ON (11.x text; the proxy follows 11.x).
    public static func insecureTransport() -> ERRPacket {
        ERRPacket(
            code: 3159,
            sqlState: "08004",
            message: "Connections using insecure transport are prohibited while --require_secure_transport=ON."
        )
    }

    /// 1105 (HY000) ER_UNKNOWN_ERROR with a free-form message (e.g. `Failed to refresh SSL, error: …`).
    public static func unknownError(_ message: String) -> ERRPacket {
        ERRPacket(code: 1105, sqlState: "HY000", message: message)
    }

    /// 1429 (HY000) `Unable to connect to foreign data source: <reason>`. MariaDB's format is `%.64s`, so the
    /// reason is clipped to 64 characters.
    public static func backendUnavailable(_ reason: String) -> ERRPacket {
        ERRPacket(
            code: 1429,
            sqlState: "HY000",
            message: "Unable to connect to foreign data source: \(clip(reason, to: 64))"
        )
    }

    /// 1130 (HY000) `Host 'h' is not allowed to connect to this MariaDB server` (pre-greeting: encode without
    /// SQLSTATE). MariaDB's format is `%-.64s`.
    public static func hostNotAllowed(host: String) -> ERRPacket {
        ERRPacket(
            code: 1130,
            sqlState: "HY000",
            message: "Host '\(clip(host, to: 64))' is not allowed to connect to this MariaDB server"
        )
    }

    /// `printf`'s `%.Ns` on a UTF-8 string: at most `count` characters (MariaDB counts characters, not bytes).
    private static func clip(_ string: String, to count: Int) -> String {
        let scalars = string.unicodeScalars
        guard scalars.count > count else { return string }
        return String(String.UnicodeScalarView(scalars.prefix(count)))
    }
}
