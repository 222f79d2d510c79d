/// An account named in a statement, after MariaDB's parse-time normalisation.
struct AccountReference: Sendable, Equatable {
    /// The user part as written (trailing spaces dropped, as MariaDB's CHAR column does).
    var user: String
    /// The host part: lower-cased, `''` turned into `%`; nil when the statement wrote no `@host`
    /// (then it means `%`, or a role in GRANT).
    var host: String?
    /// The account carried IDENTIFIED …; MariaDB then never reads a bare name as a role.
    var hasAuthentication: Bool
    /// The credentials of IDENTIFIED …, in order; nil without IDENTIFIED.
    var credentials: [StoredCredential]?
    /// The user was the bare keyword PUBLIC (the 10.11 PUBLIC role in GRANT … TO PUBLIC).
    var isBarePublic: Bool
    var location: SourceLocation

    func account(defaultHost: String = "%") -> AccountName {
        AccountName(user: user, host: host ?? defaultHost)
    }
}

/// A `REQUIRE …` clause and where it stood.
struct RequireClause: Sendable, Equatable {
    var requirement: TLSRequirement
    var location: SourceLocation
}

/// What a GRANT grants, which decides whether its grantees can be created.
enum GrantKind: Sendable, Equatable {
    /// `GRANT privileges ON level TO …` (creates missing grantees).
    case privileges
    /// `GRANT PROXY ON account TO …` (creates missing grantees).
    case proxy
    /// `GRANT role TO …` (changes no account row).
    case role
}

/// One statement of a policy file, reduced to what matters for TLS requirements.
enum PolicyStatement: Sendable, Equatable {
    case createUser(orReplace: Bool, ifNotExists: Bool, accounts: [AccountReference], require: RequireClause?)
    case alterUser(ifExists: Bool, accounts: [AccountReference], require: RequireClause?)
    case grant(kind: GrantKind, accounts: [AccountReference], require: RequireClause?)
    case dropUser(ifExists: Bool, accounts: [AccountReference])
    case renameUser(pairs: [RenamePair])
    case createRole(names: [String])
    case dropRole(names: [String])
    /// Accepted and ignored: REVOKE, SET DEFAULT ROLE, SET PASSWORD, FLUSH PRIVILEGES, `;;`.
    case ignored

    struct RenamePair: Sendable, Equatable {
        var from: AccountReference
        var to: AccountReference
    }
}
