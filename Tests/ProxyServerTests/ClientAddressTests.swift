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

    @Test func socketClientsAreLocalhost() {
        let identity = ClientAddress.identity(transport: .unixSocket, address: nil, resolvedHost: nil)
        #expect(identity.displayHost == "localhost")
        #expect(identity.ip == nil)
    }
}
