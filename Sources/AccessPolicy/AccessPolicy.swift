/// A compiled policy file: the accounts it defines, in MariaDB's `acl_users` order, ready to
/// answer "which row applies to this login?" as `find_user_or_anon()` does.
///
/// Immutable and `Sendable`; the MariaDB sort keys and host patterns are computed once here.
public struct AccessPolicy: Sendable {
    /// Every account, sorted like `acl_user_compare()`: by user name (bytes), then most specific
    /// host first (`get_magic_sort`), then host names in reverse byte order (`localhost` before
    /// `127.0.0.1`). Anonymous (`''`) rows come first.
    public let rows: [AccountRow]
    /// Notes about the file, each `file:line:column: text`: joined literals, ALTER USER of an
    /// undefined account, GRANT creating an account, hosts that can never match, ….
    public let warnings: [String]
    /// What MariaDB logs when it loads these rows under `skip_name_resolve`: one line per row
    /// whose host needs DNS, which `match(…, skipNameResolve: true)` then ignores.
    public let skipNameResolveWarnings: [String]

    private let compiled: [CompiledRow]
    private let usersByName: [UserKey: Range<Int>]

    struct CompiledRow: Sendable {
        let pattern: HostPattern
        let sort: UInt64
        let requiresResolving: Bool
    }

    /// Byte-exact user name, as `strcmp` compares it.
    struct UserKey: Hashable, Sendable {
        let bytes: [UInt8]
    }

    /// Parses and applies the statements of a policy file.
    public static func parse(_ text: String, fileName: String) throws(PolicyParseError) -> AccessPolicy {
        var parser = try AccountSQLParser(text: text, fileName: fileName)
        let statements = try parser.parseAll()
        var compiler = PolicyCompiler()
        for statement in statements { try compiler.apply(statement) }
        let rows = compiler.accounts.map {
            AccountRow(
                account: $0.key,
                requirement: $0.value.requirement,
                definedAt: $0.value.definedAt,
                credentials: $0.value.credentials
            )
        }
        return AccessPolicy(rows: rows, warnings: parser.warnings + compiler.warnings)
    }

    /// Reads and parses a policy file. An unreadable file is a `PolicyParseError` at `path:0:0`.
    public static func load(path: String) throws(PolicyParseError) -> AccessPolicy {
        let text: String
        do {
            text = try PolicyFileReader.read(path: path)
        } catch {
            throw PolicyParseError(location: SourceLocation(file: path, line: 0, column: 0), message: error.message)
        }
        return try parse(text, fileName: path)
    }

    init(rows unsorted: [AccountRow], warnings: [String]) {
        let keyed = unsorted.map { row -> (AccountRow, CompiledRow, [UInt8], [UInt8]) in
            let user = Array(row.account.user.utf8)
            let host = Array(row.account.host.utf8)
            let pattern = HostPattern(row.account.host)
            let compiled = CompiledRow(
                pattern: pattern,
                sort: MagicSort.userHostSort(host: host, userIsEmpty: user.isEmpty),
                requiresResolving: pattern.requiresResolving
            )
            return (row, compiled, user, host)
        }
        let sorted = keyed.sorted { a, b in
            // acl_user_compare(): strcmp(user), then sort descending, then -strcmp(host).
            if a.2 != b.2 { return a.2.lexicographicallyPrecedes(b.2) }
            if a.1.sort != b.1.sort { return a.1.sort > b.1.sort }
            return b.3.lexicographicallyPrecedes(a.3)
        }
        rows = sorted.map(\.0)
        compiled = sorted.map(\.1)
        var ranges: [UserKey: Range<Int>] = [:]
        var start = 0
        while start < sorted.count {
            var end = start + 1
            while end < sorted.count, sorted[end].2 == sorted[start].2 { end += 1 }
            ranges[UserKey(bytes: sorted[start].2)] = start..<end
            start = end
        }
        usersByName = ranges
        var notes = warnings
        var skipped: [String] = []
        for (row, compiledRow, _, _) in sorted {
            if let lint = compiledRow.pattern.lintWarning {
                notes.append("\(row.definedAt): \(row.account): \(lint)")
            }
            if compiledRow.requiresResolving {
                skipped.append(
                    "\(row.definedAt): 'user' entry '\(row.account.user)@\(row.account.host)' ignored in --skip-name-resolve mode."
                )
            }
        }
        self.warnings = notes
        self.skipNameResolveWarnings = skipped
    }

    /// `warnings`, plus `skipNameResolveWarnings` when the proxy runs with skip_name_resolve.
    public func warnings(skipNameResolve: Bool) -> [String] {
        skipNameResolve ? warnings + skipNameResolveWarnings : warnings
    }

    /// The row MariaDB would authenticate `user` against, for this client.
    ///
    /// The first row for the user whose host matches wins, unless an anonymous row with a
    /// strictly larger sort (a more specific host) matches too. With `skipNameResolve`, rows
    /// whose host needs DNS are ignored (MariaDB drops them when loading) and a TCP client has
    /// no host name, only its IP — even if `client.host` is set.
    public func match(user: String, client: ClientIdentity, skipNameResolve: Bool) -> AccountMatch {
        let userBytes = Self.cString(user)
        let ip = client.ip.map(Self.cString)
        let host = (skipNameResolve && client.ip != nil) ? nil : client.host.map(Self.cString)
        let ipv4 = ip.flatMap { IPv4Address.calcIP($0[...], end: nil)?.value }
        var chosen: Int?
        var mentioned = false
        if let range = usersByName[UserKey(bytes: userBytes)] {
            for index in range where !(skipNameResolve && compiled[index].requiresResolving) {
                mentioned = true
                if compiled[index].pattern.matches(host: host, ip: ip, ipv4: ipv4) {
                    chosen = index
                    break
                }
            }
        }
        if let anonymous = usersByName[UserKey(bytes: [])] {
            for index in anonymous {
                if let chosen, compiled[index].sort <= compiled[chosen].sort { break }
                if skipNameResolve && compiled[index].requiresResolving { continue }
                if compiled[index].pattern.matches(host: host, ip: ip, ipv4: ipv4) {
                    chosen = index
                    break
                }
            }
        }
        if let chosen { return .matched(rows[chosen]) }
        return mentioned ? .noMatchingRow : .notMentioned
    }

    /// The bytes MariaDB sees: C strings end at the first NUL.
    private static func cString(_ text: String) -> [UInt8] {
        let bytes = text.utf8
        if let nul = bytes.firstIndex(of: 0) { return Array(bytes[..<nul]) }
        return Array(bytes)
    }
}
