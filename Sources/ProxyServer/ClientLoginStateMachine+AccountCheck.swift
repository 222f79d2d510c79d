import AccessPolicy
import MariaDBWire
import NIOCore

/// The account checks of ``ClientLoginStateMachine``: the login's (when the backend accepts it) and
/// each COM_CHANGE_USER's, against the accounts file current at that moment.
extension ClientLoginStateMachine {
    /// COM_CHANGE_USER in the relayed session: MariaDB re-runs the account's REQUIRE check against
    /// this connection's TLS facts (but not require_secure_transport, the transport is already up).
    public mutating func changeUserRequested(_ payload: ByteBuffer, rules: AccountRules) -> ChangeUserDecision {
        guard refusedChangeUsers < Self.maxRefusedChangeUsers else {
            refusedChangeUsers += 1
            lastChangeUserRefusal = "more than \(Self.maxRefusedChangeUsers) refused COM_CHANGE_USER in this session"
            return .refuseAndClose(
                Packet(sequenceID: 1, payload: MariaDBError.unknownCommand().encode(collation: sessionCollation))
            )
        }
        let request: ChangeUserRequest
        do {
            request = try ChangeUserRequest.decode(
                payload,
                capabilities: sessionCapabilities,
                serverDefaultCollation: serverDefaultCollation
            )
        } catch {
            // What we cannot read must not reach the backend unchecked; MariaDB answers a change
            // request it cannot parse with ER_UNKNOWN_COM_ERROR (parse_com_change_user_packet).
            refusedChangeUsers += 1
            lastChangeUserRefusal = "malformed COM_CHANGE_USER (\(error))"
            return .refuse(
                Packet(sequenceID: 1, payload: MariaDBError.unknownCommand().encode(collation: sessionCollation))
            )
        }
        if let refused = request.refusedCharacterSet {
            // A failed change for MariaDB too (thd_init_client_charset in acl_authenticate): it counts.
            refusedChangeUsers += 1
            lastChangeUserRefusal = "character set \(refused)"
            let err = MariaDBError.wrongValueForVariable("character_set_client", value: refused)
            return .refuse(Packet(sequenceID: 1, payload: err.encode()))
        }
        switch checkAccount(user: request.username, exact: request.usernameIsExact, rules: rules) {
        case .allow:
            username = request.username
            forwardedChangeUser = request
            return .forward
        case .deny(let reason):
            refusedChangeUsers += 1
            lastChangeUserRefusal = reason
            let err = MariaDBError.accessDenied(
                user: request.username,
                host: identity?.displayHost ?? "",
                usingPassword: !request.authResponse.isEmpty
            )
            return .refuse(
                Packet(sequenceID: 1, payload: err.encode(collation: request.characterSet ?? sessionCollation))
            )
        }
    }

    /// The accounts file's verdict; under AUDIT a refusal is recorded and the login allowed.
    mutating func checkAccount(user: String, exact: Bool, rules: AccountRules) -> PolicyDecision {
        let decision = evaluateAccount(user: user, exact: exact, rules: rules)
        guard rules.auditOnly, case .deny(let reason) = decision else { return decision }
        auditedRefusal = reason
        // The backend may have checked another row (or nothing the file vouches for): never
        // prove a credential for a login the accounts file refused.
        matchedRow = nil
        return .allow
    }

    /// The proxy-side account check (MariaDB's acl_check_ssl on the row MariaDB would pick).
    mutating func evaluateAccount(user: String, exact: Bool, rules: AccountRules) -> PolicyDecision {
        matchedRow = nil
        guard let policy = rules.policy, let identity else { return .allow }
        guard exact else {
            // Without MariaDB's exact conversion we could match a different account: fail closed.
            matchedAccount = nil
            return .deny(reason: "user name has non-ASCII bytes in a character set the proxy cannot convert")
        }
        switch policy.match(user: user, client: identity, skipNameResolve: configuration.skipNameResolve) {
        case .notMentioned:
            matchedAccount = nil
            return rules.strictAccounts
                ? .deny(reason: "strict_accounts: user '\(user)' is not in the accounts file") : .allow
        case .noMatchingRow:
            matchedAccount = nil
            return .deny(reason: "no account row for user '\(user)' matches host '\(identity.displayHost)'")
        case .matched(let row):
            matchedAccount = "\(row.account) (\(row.definedAt))"
            matchedRow = row
            let decision = row.requirement.evaluate(ConnectionSecurity(tlsFacts))
            guard case .allow = decision else { return decision }
            return sameRowAtTheBackend(user: user, row: row, policy: policy)
        }
    }

    /// Without a PROXY header the backend authenticates the row for the proxy's address: that
    /// row's password opens the session and its privileges apply. Unless the accounts file shows
    /// the backend picks the very row MariaDB would pick for the client, the proxy cannot tell
    /// whose credentials were checked, and refuses.
    func sameRowAtTheBackend(user: String, row: AccountRow, policy: AccessPolicy) -> PolicyDecision {
        guard let views = backendView else { return .allow }
        for view in views {
            let match = policy.match(user: user, client: view, skipNameResolve: configuration.skipNameResolve)
            guard case .matched(let backendRow) = match, backendRow.account == row.account else {
                let picked: String
                if case .matched(let other) = match {
                    picked = "\(other.account) (\(other.definedAt))"
                } else {
                    picked = "no row"
                }
                return .deny(
                    reason:
                        "the backend takes the proxy's address (\(view.displayHost)) for the client, which gives \(picked), not \(row.account): that row's password and privileges would apply; set backend_proxy_protocol"
                )
            }
        }
        return .allow
    }
}
