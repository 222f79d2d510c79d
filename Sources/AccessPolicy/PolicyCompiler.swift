/// Applies parsed statements in order, as a MariaDB server would apply them to its account
/// table, keeping only what matters here: which accounts exist, their REQUIRE clause and their
/// stored credentials.
struct PolicyCompiler {
    struct Entry {
        var requirement: TLSRequirement
        var definedAt: SourceLocation
        /// Replaced by every IDENTIFIED (CREATE, ALTER USER, and GRANT, which sets the
        /// authentication of an existing account too: sql/sql_acl.cc replace_user_table()).
        var credentials: [StoredCredential] = []
    }

    private(set) var accounts: [AccountName: Entry] = [:]
    /// Role names created in the file (plus PUBLIC): a bare name in GRANT … TO that names a
    /// role is the role, as MariaDB's `get_current_user()` decides.
    private var roles: Set<String> = []
    private(set) var warnings: [String] = []

    mutating func apply(_ statement: PolicyStatement) throws(PolicyParseError) {
        switch statement {
        case let .createUser(orReplace, ifNotExists, references, require):
            for reference in references {
                let account = reference.account()
                let entry = Entry(
                    requirement: require?.requirement ?? .none,
                    definedAt: reference.location,
                    credentials: reference.credentials ?? []
                )
                if accounts[account] == nil || orReplace {
                    accounts[account] = entry
                } else if ifNotExists {
                    warn(
                        reference,
                        "Can't create user \(account); it already exists (CREATE USER IF NOT EXISTS leaves it unchanged)"
                    )
                } else {
                    throw PolicyParseError(
                        location: reference.location,
                        message:
                            "Operation CREATE USER failed for \(account): the account already exists (use CREATE OR REPLACE USER, CREATE USER IF NOT EXISTS or ALTER USER)"
                    )
                }
            }
        case let .alterUser(ifExists, references, require):
            for reference in references {
                let account = reference.account()
                if var entry = accounts[account] {
                    if let require {
                        entry.requirement = require.requirement
                        entry.definedAt = reference.location
                    }
                    if let credentials = reference.credentials { entry.credentials = credentials }
                    accounts[account] = entry
                } else if ifExists {
                    warn(reference, "User \(account) does not exist (ALTER USER IF EXISTS skips it)")
                } else {
                    let requirement = require?.requirement ?? .none
                    accounts[account] = Entry(
                        requirement: requirement,
                        definedAt: reference.location,
                        credentials: reference.credentials ?? []
                    )
                    warn(
                        reference,
                        "ALTER USER of undefined account \(account) defines it with \(requirement); MariaDB would refuse it (Operation ALTER USER failed)"
                    )
                }
            }
        case let .grant(kind, references, require):
            try applyGrant(kind: kind, references: references, require: require)
        case let .dropUser(ifExists, references):
            for reference in references {
                let account = reference.account()
                if accounts.removeValue(forKey: account) == nil {
                    if !ifExists {
                        throw PolicyParseError(
                            location: reference.location,
                            message: "Operation DROP USER failed for \(account): no such account"
                        )
                    }
                    warn(reference, "User \(account) does not exist (DROP USER IF EXISTS skips it)")
                }
            }
        case let .renameUser(pairs):
            for pair in pairs {
                let from = pair.from.account()
                let to = pair.to.account()
                guard let entry = accounts[from] else {
                    throw PolicyParseError(
                        location: pair.from.location,
                        message: "Operation RENAME USER failed for \(from): no such account"
                    )
                }
                if accounts[to] != nil {
                    throw PolicyParseError(
                        location: pair.to.location,
                        message: "Operation RENAME USER failed for \(from): \(to) already exists"
                    )
                }
                accounts[from] = nil
                accounts[to] = entry
            }
        case let .createRole(names):
            roles.formUnion(names)
        case let .dropRole(names):
            roles.subtract(names)
        case .ignored:
            break
        }
    }

    private mutating func applyGrant(
        kind: GrantKind,
        references: [AccountReference],
        require: RequireClause?
    ) throws(PolicyParseError) {
        guard kind != .role else { return }
        for reference in references {
            if reference.host == nil, !reference.hasAuthentication,
                reference.isBarePublic || roles.contains(reference.user)
            {
                if require != nil { warn(reference, "REQUIRE on role '\(reference.user)' has no effect on logins") }
                continue
            }
            let account = reference.account()
            if var entry = accounts[account] {
                if let require {
                    entry.requirement = require.requirement
                    entry.definedAt = reference.location
                }
                if let credentials = reference.credentials { entry.credentials = credentials }
                accounts[account] = entry
            } else {
                accounts[account] = Entry(
                    requirement: require?.requirement ?? .none,
                    definedAt: reference.location,
                    credentials: reference.credentials ?? []
                )
                if !reference.hasAuthentication {
                    warn(
                        reference,
                        "GRANT creates account \(account) (MariaDB does so only without NO_AUTO_CREATE_USER, which its default sql_mode sets)"
                    )
                }
            }
        }
    }

    private mutating func warn(_ reference: AccountReference, _ message: String) {
        warnings.append("\(reference.location): \(message)")
    }
}
