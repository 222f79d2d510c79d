import NIOCore
import Testing

@testable import MariaDBWire

@Suite struct ProxyProtocolHeaderTests {
    static let signature = hex("0d 0a 0d 0a 00 0d 0a 51 55 49 54 0a")

    func ip(_ text: String, _ port: Int) throws -> SocketAddress {
        try SocketAddress(ipAddress: text, port: port)
    }

    func unix(_ path: String) throws -> SocketAddress {
        try SocketAddress(unixDomainSocketPath: path)
    }

    // MARK: v1

    @Test func v1TCP4() throws {
        let header = ProxyProtocolHeader.encode(
            client: try ip("127.0.0.2", 50000),
            local: try ip("127.0.0.1", 3306),
            version: .v1
        )
        #expect(header == ascii("PROXY TCP4 127.0.0.2 127.0.0.1 50000 3306\r\n"))
    }

    @Test func v1TCP6() throws {
        let header = ProxyProtocolHeader.encode(
            client: try ip("2001:db8:0:0:0:0:0:1", 1234),
            local: try ip("::1", 3306),
            version: .v1
        )
        #expect(header == ascii("PROXY TCP6 2001:db8::1 ::1 1234 3306\r\n"))
    }

    @Test func v1LongestTCP6FitsMariaDBsLimit() throws {
        let longest = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe"
        let header = ProxyProtocolHeader.encode(
            client: try ip(longest, 65535),
            local: try ip(longest, 65535),
            version: .v1
        )
        #expect(header == ascii("PROXY TCP6 \(longest) \(longest) 65535 65535\r\n"))
        #expect(header.count <= 107)  // the protocol's maximum; MariaDB reads at most 256 bytes
    }

    @Test func v1IPv4MappedClientIsSentAsTCP4() throws {
        let header = ProxyProtocolHeader.encode(
            client: try ip("::ffff:10.0.0.5", 40000),
            local: try ip("::ffff:10.0.0.1", 3306),
            version: .v1
        )
        #expect(header == ascii("PROXY TCP4 10.0.0.5 10.0.0.1 40000 3306\r\n"))
    }

    @Test func v1HasNoUnixFamilySoUnixClientsAreUnknown() throws {
        let header = ProxyProtocolHeader.encode(client: try unix(""), local: try unix("/run/proxy.sock"), version: .v1)
        #expect(header == ascii("PROXY UNKNOWN\r\n"))
        #expect(ProxyProtocolHeader.encode(client: nil, local: nil, version: .v1) == ascii("PROXY UNKNOWN\r\n"))
    }

    // MARK: v2

    @Test func v2TCP4() throws {
        let header = ProxyProtocolHeader.encode(
            client: try ip("127.0.0.2", 50000),
            local: try ip("127.0.0.1", 3306),
            version: .v2
        )
        #expect(header == Self.signature + hex("21 11 00 0c  7f 00 00 02  7f 00 00 01  c3 50  0c ea"))
        #expect(header.count == 28)
    }

    @Test func v2TCP6() throws {
        let header = ProxyProtocolHeader.encode(
            client: try ip("2001:db8::1", 1234),
            local: try ip("::1", 3306),
            version: .v2
        )
        #expect(
            header == Self.signature
                + hex(
                    """
                    21 21 00 24
                    20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 01
                    00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 01
                    04 d2 0c ea
                    """
                )
        )
    }

    @Test func v2IPv4MappedClientIsSentAsTCP4() throws {
        let header = ProxyProtocolHeader.encode(
            client: try ip("::ffff:192.168.1.20", 1),
            local: try ip("::ffff:192.168.1.1", 3306),
            version: .v2
        )
        #expect(header == Self.signature + hex("21 11 00 0c  c0 a8 01 14  c0 a8 01 01  00 01  0c ea"))
    }

    @Test func v2UnixClientIsAFUnixWithTwoPaddedPaths() throws {
        let header = ProxyProtocolHeader.encode(client: try unix(""), local: try unix("/run/p.sock"), version: .v2)
        let destination = ascii("/run/p.sock") + [UInt8](repeating: 0, count: 108 - 11)
        #expect(header == Self.signature + hex("21 31 00 d8") + [UInt8](repeating: 0, count: 108) + destination)
        // MariaDB rejects address blocks over 240 bytes and ignores the length's high byte.
        #expect(header.count == 16 + 216)
    }

    @Test func v2WithoutAClientAddressIsLocal() {
        #expect(
            ProxyProtocolHeader.encode(client: nil, local: nil, version: .v2) == Self.signature + hex("20 00 00 00")
        )
    }

    // MARK: Mixed families

    @Test func anIPv4ClientOnAnIPv6OnlyLocalAddressGetsANullDestination() throws {
        let addresses = ProxyProtocolHeader.addresses(client: try ip("10.1.1.1", 5), local: try ip("fe80::1", 3306))
        #expect(
            addresses == .tcp4(source: [10, 1, 1, 1], sourcePort: 5, destination: [0, 0, 0, 0], destinationPort: 3306)
        )
    }

    @Test func anIPv6ClientOnAnIPv4LocalAddressGetsAMappedDestination() throws {
        let addresses = ProxyProtocolHeader.addresses(client: try ip("::2", 5), local: try ip("10.0.0.1", 3306))
        #expect(
            addresses
                == .tcp6(
                    source: [UInt8](repeating: 0, count: 15) + [2],
                    sourcePort: 5,
                    destination: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 1],
                    destinationPort: 3306
                )
        )
    }
}
