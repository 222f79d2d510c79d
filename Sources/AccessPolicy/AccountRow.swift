/// One account of the compiled policy and its TLS requirement.
public struct AccountRow: Sendable, Equatable {
    public var account: AccountName
    public var requirement: TLSRequirement
    /// Where the account reference stood in the statement that last set its requirement
    /// (the CREATE USER that made it, or a later ALTER USER / GRANT … REQUIRE).
    public var definedAt: SourceLocation
    /// The account's authentication methods in order (`… OR …`), as the last CREATE USER,
    /// ALTER USER or GRANT with IDENTIFIED stated them; empty for an account created without
    /// IDENTIFIED (passwordless).
    public var credentials: [StoredCredential]

    public init(
        account: AccountName,
        requirement: TLSRequirement,
        definedAt: SourceLocation,
        credentials: [StoredCredential] = []
    ) {
        self.account = account
        self.requirement = requirement
        self.definedAt = definedAt
        self.credentials = credentials
    }
}
