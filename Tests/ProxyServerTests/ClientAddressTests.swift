import NIOCore
import Testing

@testable import ProxyServer

/// The client address as MariaDB matches it: normalised IP text and MariaDB's name resolution rules.
@Suite struct ClientAddressTests {
    @Test(arguments: [
        ("127.0.0.1", "127.0.0.1"),
        ("::ffff:192.0.2.7", "192.0.2.7"),
        ("2001:db8::1", "2001:db8::1"),
        ("::1", "::1"),
    ])
    func normalisedIP(input: String, expected: String) throws {
        let address = try SocketAddress(ipAddress: input, port: 3306)
        #expect(ClientAddress.normalizedIP(address) == expected)
    }

    @Test func loopbackIsLocalhostWithoutDNS() {
        #expect(ClientAddress.resolveHostName(ip: "127.0.0.1") == "localhost")
        #expect(ClientAddress.resolveHostName(ip: "::1") == "localhost")
    }

    @Test func dottedQuadDetection() {
        #expect(ClientAddress.isDottedQuad("192.0.2.7"))
        #expect(!ClientAddress.isDottedQuad("192.0.2"))
        #expect(!ClientAddress.isDottedQuad("db1.example.com"))
        #expect(!ClientAddress.isDottedQuad("1.2.3.256"))
    }

    @Test(arguments: [
        // is_hostname_valid (sql/hostname.cc): digits then a dot resemble an IPv4 address.
        ("10.0.0.evil.example", false),
        ("192.168.1.example.org", false),
        ("123.example.org", false),
        ("1.2", false),
        ("1.2.3.4", false),
        ("1.", false),
        ("db1.example.com", true),
        ("1abc.example.com", true),
        ("1-2.example.com", true),
        ("12:dead:beef::1", true),
        ("a10.0.0.1", true),
        ("123", true),
        ("", true),
    ])
    func hostNameValidity(name: String, valid: Bool) {
        #expect(ClientAddress.isValidHostName(name) == valid)
    }

    /// A resolver answering from tables, recording what was asked.
    private func resolver(reverse: [String: String], forward: [String: [String]]) -> ClientAddress.Resolver {
        ClientAddress.Resolver(reverse: { reverse[$0] }, forward: { forward[$0] ?? [] })
    }

    @Test func confirmedNameIsUsed() {
        let dns = resolver(
            reverse: ["192.0.2.7": "db1.example.com"],
            forward: ["db1.example.com": ["192.0.2.9", "192.0.2.7"]]
        )
        #expect(ClientAddress.resolveHostName(ip: "192.0.2.7", resolver: dns) == "db1.example.com")
    }

    @Test func nameResemblingAnIPv4AddressIsDiscardedEvenWhenConfirmed() {
        // The attacker controls the PTR record and the forward zone of evil.example.
        let dns = resolver(
            reverse: ["192.0.2.7": "10.0.0.evil.example"],
            forward: ["10.0.0.evil.example": ["192.0.2.7"]]
        )
        #expect(ClientAddress.resolveHostName(ip: "192.0.2.7", resolver: dns) == nil)
    }

    @Test func unconfirmedNameIsDiscarded() {
        let dns = resolver(reverse: ["192.0.2.7": "db1.example.com"], forward: ["db1.example.com": ["192.0.2.8"]])
        #expect(ClientAddress.resolveHostName(ip: "192.0.2.7", resolver: dns) == nil)
        let unresolvable = resolver(reverse: ["192.0.2.7": "db1.example.com"], forward: [:])
        #expect(ClientAddress.resolveHostName(ip: "192.0.2.7", resolver: unresolvable) == nil)
        let noPTR = resolver(reverse: [:], forward: [:])
        #expect(ClientAddress.resolveHostName(ip: "192.0.2.7", resolver: noPTR) == nil)
    }

    @Test func ipv6ConfirmationIgnoresCase() {
        let dns = resolver(reverse: ["2001:db8::7": "v6.example.com"], forward: ["v6.example.com": ["2001:DB8::7"]])
        #expect(ClientAddress.resolveHostName(ip: "2001:db8::7", resolver: dns) == "v6.example.com")
    }

    @Test func loopbackNeverAsksTheResolver() {
        let dns = ClientAddress.Resolver(
            reverse: { _ in
                Issue.record("reverse lookup for loopback")
                return nil
            },
            forward: { _ in
                Issue.record("forward lookup for loopback")
                return []
            }
        )
        #expect(ClientAddress.resolveHostName(ip: "127.0.0.1", resolver: dns) == "localhost")
    }

    @Test func socketClientsAreLocalhost() {
        let identity = ClientAddress.identity(transport: .unixSocket, address: nil, resolvedHost: nil)
        #expect(identity.displayHost == "localhost")
        #expect(identity.ip == nil)
    }
}
