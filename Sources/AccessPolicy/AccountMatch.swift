/// Which account row MariaDB would pick for a login, as `find_user_or_anon()` does.
public enum AccountMatch: Sendable, Equatable {
    /// No (usable) row names this user, and no anonymous row matches the client.
    case notMentioned
    /// Rows name this user, but neither they nor an anonymous row match this client:
    /// MariaDB answers 1045 whatever the password.
    case noMatchingRow
    /// The row whose requirement applies (possibly an anonymous `''@host` row).
    case matched(AccountRow)
}
