import ProxyTLS

/// The value type of an option: decides how a value is parsed, whether a bare name is allowed,
/// whether `skip-`/`enable-` apply, and how help text shows the value.
enum OptionKind: Sendable, Equatable {
    /// ON/OFF; a bare name means ON; `skip-`, `disable-` and `enable-` prefixes apply.
    case boolean
    /// A decimal integer within `range` (no K/M/G suffixes; out of range is an error, not clamped).
    case integer(ClosedRange<Int>)
    /// Free text such as a path; the empty string means "none". `placeholder` names it in help text.
    case text(placeholder: String)
    /// `bind_address`: comma-separated, non-empty entries; `*` means every address (stored as `::`).
    case addressList
    /// `tls_version`: comma-separated subset of TLSv1.0 … TLSv1.3, case-insensitive.
    case tlsVersionList
    /// `log_level`: one of the swift-log level names, case-insensitive.
    case logLevel
    /// `backend_proxy_protocol`: OFF, v1 or v2, case-insensitive.
    case proxyProtocolVersion
    /// `log_connections`: ALL, REFUSED or OFF, case-insensitive.
    case connectionLogging
    /// `HOST:PORT` or `[IPv6]:PORT`, port 1–65535; empty = none.
    case hostAndPort
    /// `policy_mode`: ENFORCE or AUDIT, case-insensitive.
    case policyMode

    /// How `--help` shows the value after `=` (empty for booleans, which need none).
    var placeholder: String {
        switch self {
        case .boolean: return ""
        case .integer: return "#"
        case .text(let placeholder): return placeholder
        case .addressList: return "LIST"
        case .tlsVersionList: return "LIST"
        case .logLevel: return "LEVEL"
        case .proxyProtocolVersion: return "OFF|v1|v2"
        case .connectionLogging: return "ALL|REFUSED|OFF"
        case .hostAndPort: return "HOST:PORT"
        case .policyMode: return "ENFORCE|AUDIT"
        }
    }

    static let booleanWords: [String: Bool] = [
        "on": true, "true": true, "yes": true, "1": true,
        "off": false, "false": false, "no": false, "0": false,
    ]

    static var tlsVersionNames: String {
        TLSProtocolVersion.allCases.map(\.rawValue).joined(separator: ", ")
    }

    /// Parses `raw` (the text after `=`); the thrown problem says what was expected and what was given.
    func parse(_ raw: String) throws(ConfigurationProblem) -> OptionValue {
        let trimmed = raw.trimmingSpaces()
        switch self {
        case .boolean:
            guard let value = Self.booleanWords[trimmed.lowercased()] else {
                throw ConfigurationProblem("expected a boolean (ON/OFF, TRUE/FALSE, YES/NO, 1/0), got '\(raw)'")
            }
            return .boolean(value)

        case .integer(let range):
            guard let value = Int(trimmed), range.contains(value) else {
                throw ConfigurationProblem(
                    "expected an integer between \(range.lowerBound) and \(range.upperBound), got '\(raw)'"
                )
            }
            return .integer(value)

        case .text:
            // Paths may legitimately contain spaces, so only the empty value is special.
            return .text(raw.isEmpty ? nil : raw)

        case .addressList:
            let entries = trimmed.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingSpaces() }
            guard !entries.contains(where: \.isEmpty) else {
                throw ConfigurationProblem("expected a comma-separated list of non-empty addresses, got '\(raw)'")
            }
            // MariaDB's `*` means "all IPv4 and IPv6 addresses", which the dual-stack wildcard `::` provides.
            return .addresses(entries.map { $0 == "*" ? "::" : $0 })

        case .tlsVersionList:
            guard !trimmed.isEmpty else {
                throw ConfigurationProblem(
                    "expected a comma-separated list of \(Self.tlsVersionNames), got '\(raw)'"
                )
            }
            var versions = Set<TLSProtocolVersion>()
            for item in trimmed.split(separator: ",", omittingEmptySubsequences: false) {
                let name = item.trimmingSpaces()
                guard
                    let version = TLSProtocolVersion.allCases.first(where: {
                        $0.rawValue.lowercased() == name.lowercased()
                    })
                else {
                    throw ConfigurationProblem(
                        "unknown TLS version '\(name)' (expected a comma-separated list of \(Self.tlsVersionNames))"
                    )
                }
                versions.insert(version)
            }
            return .tlsVersions(versions)

        case .logLevel:
            guard let level = LogLevelSetting(rawValue: trimmed.lowercased()) else {
                let names = LogLevelSetting.allCases.map(\.rawValue).joined(separator: ", ")
                throw ConfigurationProblem("expected one of \(names), got '\(raw)'")
            }
            return .logLevel(level)

        case .proxyProtocolVersion:
            guard let version = BackendProxyProtocol(rawValue: trimmed.lowercased()) else {
                throw ConfigurationProblem("expected OFF, v1 or v2, got '\(raw)'")
            }
            return .proxyProtocol(version)

        case .connectionLogging:
            guard let value = ConnectionLogging(rawValue: trimmed.uppercased()) else {
                throw ConfigurationProblem("expected ALL, REFUSED or OFF, got '\(raw)'")
            }
            return .connectionLogging(value)

        case .policyMode:
            guard let mode = PolicyMode(rawValue: trimmed.uppercased()) else {
                throw ConfigurationProblem("expected ENFORCE or AUDIT, got '\(raw)'")
            }
            return .policyMode(mode)

        case .hostAndPort:
            if trimmed.isEmpty { return .text(nil) }
            guard let colon = trimmed.lastIndex(of: ":"),
                let port = Int(trimmed[trimmed.index(after: colon)...]), (1...65535).contains(port)
            else {
                throw ConfigurationProblem(
                    "expected HOST:PORT with a port from 1 to 65535 (e.g. 127.0.0.1:9405 or [::1]:9405), got '\(raw)'"
                )
            }
            let host = trimmed[..<colon]
            let bracketed = host.hasPrefix("[") && host.hasSuffix("]") && host.count > 2
            guard !host.isEmpty, bracketed || !host.contains(":"), !host.contains(" ") else {
                throw ConfigurationProblem(
                    "expected HOST:PORT, an IPv6 address in brackets (e.g. [::1]:9405), got '\(raw)'"
                )
            }
            return .text(trimmed)
        }
    }
}

extension StringProtocol {
    /// Trims the characters MariaDB's `my_isspace` treats as blanks (ASCII whitespace only).
    func trimmingSpaces() -> String {
        let scalars = Array(unicodeScalars)
        var start = 0
        var end = scalars.count
        while start < end, scalars[start].isOptionFileSpace { start += 1 }
        while end > start, scalars[end - 1].isOptionFileSpace { end -= 1 }
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars[start..<end])
        return String(view)
    }
}

extension Unicode.Scalar {
    /// Space, tab, newline, vertical tab, form feed, carriage return — as C's `isspace` in the C locale.
    var isOptionFileSpace: Bool {
        switch value {
        case 0x20, 0x09, 0x0A, 0x0B, 0x0C, 0x0D: return true
        default: return false
        }
    }
}
