/// An account as MariaDB stores it in `mysql.global_priv`: `'user'@'host'`.
///
/// The user name is kept exactly as written (case-sensitive); the host is lower-cased, as the
/// server's parser does. Equality and hashing compare the UTF-8 bytes, like the table's
/// `utf8mb3_bin` primary key (Swift's `String ==` would merge canonically equivalent spellings
/// that MariaDB keeps apart).
public struct AccountName: Hashable, Sendable, CustomStringConvertible {
    public var user: String
    public var host: String

    public init(user: String, host: String) {
        self.user = user
        self.host = host
    }

    /// `'user'@'host'`, the form MariaDB uses in its error messages (no escaping).
    public var description: String { "'\(user)'@'\(host)'" }

    /// True for MariaDB's anonymous accounts (`''@'host'`), which match any user name.
    public var isAnonymous: Bool { user.utf8.isEmpty }

    public static func == (lhs: AccountName, rhs: AccountName) -> Bool {
        lhs.user.utf8.elementsEqual(rhs.user.utf8) && lhs.host.utf8.elementsEqual(rhs.host.utf8)
    }

    public func hash(into hasher: inout Hasher) {
        // Bytes plus a separator, so ("ab","c") and ("a","bc") hash apart.
        for byte in user.utf8 { hasher.combine(byte) }
        hasher.combine(0xFF as UInt8)
        for byte in host.utf8 { hasher.combine(byte) }
    }
}
