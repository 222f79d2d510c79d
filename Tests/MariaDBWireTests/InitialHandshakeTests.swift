import NIOCore
import Testing

@testable import MariaDBWire

@Suite struct InitialHandshakeTests {
    @Test func decodesRealMariaDB1011Greeting() throws {
        let greeting = try InitialHandshake.decode(buffer(RealGreeting.payload))
        #expect(greeting.protocolVersion == 10)
        #expect(greeting.serverVersion == RealGreeting.version)
        #expect(greeting.connectionID == RealGreeting.connectionID)
        #expect(greeting.authPluginData == RealGreeting.scramble1 + RealGreeting.scramble2)
        #expect(greeting.authPluginData.count == 20)
        #expect(greeting.capabilities == RealGreeting.capabilities)
        #expect(greeting.capabilities.contains(.mariaDBProgress))
        #expect(!greeting.capabilities.contains(.ssl))
        #expect(!greeting.capabilities.contains(.clientMySQL))
        #expect(greeting.characterSet == 45)
        #expect(greeting.statusFlags == 2)
        #expect(greeting.authPluginName == "mysql_native_password")
        #expect(bytes(greeting.rawPayload) == RealGreeting.payload)
    }

    @Test func reencodesByteForByteWithOnlyCapabilitiesChanged() throws {
        let original = RealGreeting.payload
        let greeting = try InitialHandshake.decode(buffer(original))
        #expect(bytes(greeting.payload(withCapabilities: greeting.capabilities)) == original)

        // Add CLIENT_SSL (0x0800): only the high byte of the low word changes, 0xF7 → 0xFF.
        let withSSL = bytes(greeting.payload(withCapabilities: greeting.capabilities.union(.ssl)))
        var expected = original
        expected[RealGreeting.capabilityOffset + 1] = 0xFF
        #expect(withSSL == expected)
        #expect(try InitialHandshake.decode(buffer(withSSL)).capabilities == RealGreeting.capabilities.union(.ssl))

        // Drop COMPRESS (low word), CONNECT_ATTRS (high word) and MARIADB_CLIENT_PROGRESS (extended word).
        let reduced = greeting.capabilities.subtracting([.compress, .connectAttrs, .mariaDBProgress])
        let changed = bytes(greeting.payload(withCapabilities: reduced))
        var expected2 = original
        expected2[RealGreeting.capabilityOffset] = 0xDE  // 0xFE & ~0x20
        expected2[RealGreeting.capabilityOffset + 5] = 0xAF  // 0xBF & ~0x10 (bit 20)
        expected2[RealGreeting.capabilityOffset + 14] = 0x1C  // 0x1D & ~0x01
        #expect(changed == expected2)
        let differing = zip(changed, original).enumerated().filter { $0.element.0 != $0.element.1 }.map(\.offset)
        #expect(
            differing == [
                RealGreeting.capabilityOffset, RealGreeting.capabilityOffset + 5,
                RealGreeting.capabilityOffset + 14,
            ]
        )
    }

    @Test func extendedBytesUntouchedWhenClientMySQLIsSet() throws {
        let greeting = try InitialHandshake.decode(buffer(RealGreeting.payload))
        let mysqlish = CapabilityFlags(lower: RealGreeting.capabilities.lowerWord | 1)
        let out = bytes(greeting.payload(withCapabilities: mysqlish))
        #expect(out[RealGreeting.capabilityOffset] == 0xFF)
        #expect(Array(out[(RealGreeting.capabilityOffset + 14)...].prefix(4)) == [0x1D, 0, 0, 0])
        // And a decoder then ignores them.
        #expect(try InitialHandshake.decode(buffer(out)).capabilities == mysqlish)
    }

    @Test func sliceWithNonZeroReaderIndex() throws {
        var framed = encodePacket(sequenceID: 0, payload: buffer(RealGreeting.payload))
        framed.moveReaderIndex(forwardBy: 4)
        let greeting = try InitialHandshake.decode(framed)
        var expected = RealGreeting.payload
        expected[RealGreeting.capabilityOffset + 1] = 0xFF
        #expect(bytes(greeting.payload(withCapabilities: RealGreeting.capabilities.union(.ssl))) == expected)
    }

    @Test func memberwiseInitBuildsMariaDBLayout() throws {
        let built = InitialHandshake(
            serverVersion: RealGreeting.version,
            connectionID: RealGreeting.connectionID,
            authPluginData: RealGreeting.scramble1 + RealGreeting.scramble2,
            capabilities: RealGreeting.capabilities,
            characterSet: 45,
            statusFlags: 2,
            authPluginName: "mysql_native_password"
        )
        #expect(bytes(built.rawPayload) == RealGreeting.payload)
        #expect(bytes(built.encode()) == RealGreeting.payload)
        #expect(try InitialHandshake.decode(built.rawPayload) == built)
    }

    @Test func roundTripsOtherShapes() throws {
        let ed25519 = InitialHandshake(
            serverVersion: "11.8.6-MariaDB",
            connectionID: 0xDEAD_BEEF,
            authPluginData: (0..<32).map { UInt8($0 + 40) },
            capabilities: CapabilityFlags(lower: 0x81FF_FFFE, extended: 0x3D),
            characterSet: 0x21,
            statusFlags: 0x4002,
            authPluginName: "client_ed25519"
        )
        let decoded = try InitialHandshake.decode(ed25519.encode())
        #expect(decoded == ed25519)
        #expect(decoded.authPluginData.count == 32)

        let mysql = InitialHandshake(
            serverVersion: "8.0.36",
            connectionID: 7,
            authPluginData: Array(repeating: 0x41, count: 20),
            capabilities: CapabilityFlags(lower: 0xDFFF_FFFF),
            characterSet: 255,
            statusFlags: 2,
            authPluginName: "caching_sha2_password"
        )
        let mysqlDecoded = try InitialHandshake.decode(mysql.encode())
        #expect(mysqlDecoded.capabilities == CapabilityFlags(lower: 0xDFFF_FFFF))
        #expect(mysqlDecoded.authPluginName == "caching_sha2_password")
    }

    @Test func pluginNameWithoutTerminatorIsAccepted() throws {
        let payload = Array(RealGreeting.payload.dropLast())
        #expect(try InitialHandshake.decode(buffer(payload)).authPluginName == "mysql_native_password")
    }

    @Test func everyTruncationBeforeThePluginNameThrows() {
        let payload = RealGreeting.payload
        let pluginStart = payload.count - "mysql_native_password".utf8.count - 1
        for length in 0..<payload.count {
            let prefix = buffer(Array(payload[..<length]))
            if length < pluginStart {
                #expect(throws: WireError.self) { try InitialHandshake.decode(prefix) }
            } else {
                // Plugin name cut short (or absent): still a greeting, never a crash.
                _ = try? InitialHandshake.decode(prefix)
            }
        }
    }

    @Test func specificReasons() {
        #expect(throws: WireError.malformed("greeting: truncated protocol version")) {
            try InitialHandshake.decode(ByteBuffer())
        }
        #expect(throws: WireError.malformed("greeting: unsupported protocol version 255")) {
            try InitialHandshake.decode(buffer(hex("ff 10 04") + ascii("Too many connections")))
        }
        #expect(throws: WireError.malformed("greeting: missing server version terminator")) {
            try InitialHandshake.decode(buffer([0x0A] + ascii("5.5.5-10.11")))
        }
    }
}
