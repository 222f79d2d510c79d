/// One account of the compiled policy and its TLS requirement.
public struct AccountRow: Sendable, Equatable {
    public var account: AccountName
    public var requirement: TLSRequirement
    /// Where the account reference stood in the statement that last set its requirement
    /// (the CREATE USER that made it, or a later ALTER USER / GRANT … REQUIRE).
    public var definedAt: SourceLocation

    public init(account: AccountName, requirement: TLSRequirement, definedAt: SourceLocation) {
        self.account = account
        self.requirement = requirement
        self.definedAt = definedAt
    }
}
