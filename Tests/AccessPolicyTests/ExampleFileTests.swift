import Testing

@testable import AccessPolicy

/// The shipped example must stay valid and mean what its comments say.
@Suite struct ExampleFileTests {
    static let path: String = {
        var components = #filePath.split(separator: "/", omittingEmptySubsequences: false)
        components.removeLast(3)  // Tests/AccessPolicyTests/ExampleFileTests.swift
        return components.joined(separator: "/") + "/config/accounts.sql"
    }()

    @Test func exampleAccountsFileParses() throws {
        let policy = try AccessPolicy.load(path: Self.path)
        let byAccount = Dictionary(uniqueKeysWithValues: policy.rows.map { ($0.account.description, $0.requirement) })
        #expect(byAccount["'alice'@'localhost'"] == TLSRequirement.none)
        #expect(
            byAccount["'alice'@'%'"]
                == .specified(
                    cipher: "ECDHE-ECDSA-AES256-SHA384",
                    issuer:
                        "/C=FI/ST=Somewhere/L=City/ O=Some Company/CN=Peter Parker/emailAddress=p.parker@marvel.com",
                    subject: "/CN=alice/O=My Dom, Inc./C=US/ST=Oregon/L=Portland"
                )
        )
        #expect(byAccount["'reporting'@'%'"] == .x509)
        #expect(
            byAccount["'legacy_app'@'%'"]
                == .specified(cipher: "ECDHE-RSA-AES256-GCM-SHA384", issuer: nil, subject: nil)
        )
    }

    @Test func seedExampleLocalhostNeedsNothingButElsewhereNeedsTheCertificate() throws {
        let policy = try AccessPolicy.load(path: Self.path)
        guard case .matched(let local) = policy.match(user: "alice", client: .unixSocket(), skipNameResolve: true)
        else {
            Issue.record("alice over the socket should match a row")
            return
        }
        #expect(local.requirement.evaluate(.plaintext) == .allow)
        guard
            case .matched(let remote) = policy.match(
                user: "alice",
                client: .tcp(ip: "192.0.2.7", resolvedHost: nil),
                skipNameResolve: true
            )
        else {
            Issue.record("alice over TCP should match a row")
            return
        }
        #expect(remote.requirement.evaluate(.plaintext) != .allow)
    }
}
