@testable import AccessPolicy

/// Parses `text` as `t.sql`.
func compile(_ text: String) throws(PolicyParseError) -> AccessPolicy {
    try AccessPolicy.parse(text, fileName: "t.sql")
}

/// The error `text` is rejected with, or nil if it parses.
func rejection(_ text: String) -> PolicyParseError? {
    do {
        _ = try AccessPolicy.parse(text, fileName: "t.sql")
        return nil
    } catch {
        return error
    }
}

extension AccessPolicy {
    /// The requirement stored for exactly `'user'@'host'`.
    func requirement(_ user: String, _ host: String) -> TLSRequirement? {
        rows.first { $0.account == AccountName(user: user, host: host) }?.requirement
    }

    func row(_ user: String, _ host: String) -> AccountRow? {
        rows.first { $0.account == AccountName(user: user, host: host) }
    }

    var accountNames: [String] { rows.map(\.account.description) }
}

extension AccountMatch {
    /// `'user'@'host'` of the matched row, "notMentioned" or "noMatchingRow".
    var summary: String {
        switch self {
        case .notMentioned: return "notMentioned"
        case .noMatchingRow: return "noMatchingRow"
        case .matched(let row): return row.account.description
        }
    }
}

func tokens(_ text: String) throws(PolicyParseError) -> [SQLToken] {
    try SQLTokenizer.tokenize(text, fileName: "t.sql")
}

/// Clients as MariaDB sees them.
enum Client {
    static let socket = ClientIdentity.unixSocket()
    /// TCP from 127.0.0.1 with name resolution on (loopback → localhost).
    static let loopbackResolved = ClientIdentity.tcp(ip: "127.0.0.1", resolvedHost: "localhost")
    /// TCP from 127.0.0.1 under skip_name_resolve.
    static let loopbackIP = ClientIdentity.tcp(ip: "127.0.0.1", resolvedHost: nil)
    static func tcp(_ ip: String, _ host: String? = nil) -> ClientIdentity { .tcp(ip: ip, resolvedHost: host) }
}
