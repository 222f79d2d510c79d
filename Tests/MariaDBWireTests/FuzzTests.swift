import NIOCore
import Testing

@testable import MariaDBWire

/// Random and mutated inputs through every decoder: any outcome is fine except a trap.
@Suite struct FuzzTests {
    static func decodeEverything(_ payload: ByteBuffer, _ generator: inout SplitMix64) {
        let client = CapabilityFlags(rawValue: generator.next())
        let server = CapabilityFlags(rawValue: generator.next())
        _ = try? InitialHandshake.decode(payload)
        _ = try? SSLRequest.decode(payload)
        _ = ClientFirstPacket.requestsTLS(payload)
        _ = ClientFirstPacket.capabilities(of: payload)
        _ = try? HandshakeResponse.decode(payload, clientCapabilities: nil, serverCapabilities: server)
        _ = try? HandshakeResponse.decode(payload, clientCapabilities: client, serverCapabilities: server)
        _ = try? HandshakeResponse.decode(
            payload,
            clientCapabilities: nil,
            serverCapabilities: CapabilityFlags(rawValue: .max)
        )
        // What the proxy checks is what the backend reads from the forwarded packet.
        if let checked = try? HandshakeResponse.decode(
            payload,
            clientCapabilities: client,
            serverCapabilities: server,
            serverDefaultCollation: 8
        ) {
            let negotiated = client.intersection(server).subtracting([.ssl, .compress, .zstdCompression])
            let forwarded = checked.forwardedPayload(capabilities: negotiated)
            let backend = try? HandshakeResponse.decode(
                forwarded,
                clientCapabilities: nil,
                serverCapabilities: server,
                serverDefaultCollation: 8
            )
            #expect(backend?.usernameBytes == checked.usernameBytes)
            #expect(backend?.username == checked.username)
            #expect(backend?.authResponse == checked.authResponse)
            #expect(backend?.databaseBytes == checked.databaseBytes)
            #expect(backend?.isProtocol41 == checked.isProtocol41)
        }
        _ = try? OKPacket.decode(payload, capabilities: client)
        _ = try? ERRPacket.decode(payload)
        _ = try? AuthServerPacket.classify(payload)
        var copy = payload
        _ = copy.readLengthEncodedBytes()
        _ = copy.readNullTerminatedBytes()
        if let greeting = try? InitialHandshake.decode(payload) {
            _ = greeting.payload(withCapabilities: client)
        }
        var framer = PacketFramer(maxPayloadLength: Int(generator.next() % 300))
        framer.append(payload)
        while let packet = try? framer.nextPacket() { _ = packet }
        _ = framer.takeRemainingBytes()
    }

    @Test func randomBytes() {
        var generator = SplitMix64(seed: 0x5EED)
        for _ in 0..<20_000 {
            let length = Int(generator.next() % 96)
            var bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            // Bias the first byte toward the interesting markers.
            if !bytes.isEmpty, generator.next() % 2 == 0 {
                bytes[0] = [0x00, 0x01, 0x0A, 0xFE, 0xFF][Int(generator.next() % 5)]
            }
            Self.decodeEverything(buffer(bytes), &generator)
        }
    }

    @Test func mutatedValidPackets() {
        var generator = SplitMix64(seed: 0xC0FFEE)
        let seeds: [[UInt8]] = [
            RealGreeting.payload,
            HandshakeResponseTests.fullPacket,
            bytes(
                SSLRequest(
                    capabilities: CapabilityFlags(lower: 0x01BE_AE8C, extended: 0x1D),
                    maxPacketSize: 1 << 24,
                    characterSet: 45
                ).encode()
            ),
            bytes(
                OKPacket(
                    affectedRows: 1000,
                    lastInsertID: 1 << 40,
                    statusFlags: 0x4002,
                    warnings: 1,
                    info: ascii("x"),
                    sessionStateChanges: [1, 2]
                ).encode(capabilities: [.protocol41, .sessionTrack])
            ),
            bytes(MariaDBError.insecureTransport().encode()),
            [0xFE] + ascii("client_ed25519") + [0] + [UInt8](repeating: 3, count: 32),
        ]
        for _ in 0..<10_000 {
            var bytes = seeds[Int(generator.next() % UInt64(seeds.count))]
            for _ in 0..<(1 + generator.next() % 4) {
                guard !bytes.isEmpty else { break }
                let index = Int(generator.next() % UInt64(bytes.count))
                switch generator.next() % 4 {
                case 0: bytes[index] = UInt8(truncatingIfNeeded: generator.next())
                case 1: bytes[index] = [0x00, 0xFB, 0xFC, 0xFD, 0xFE, 0xFF][Int(generator.next() % 6)]
                case 2: bytes.removeSubrange(index...)
                default: bytes.insert(UInt8(truncatingIfNeeded: generator.next()), at: index)
                }
            }
            Self.decodeEverything(buffer(bytes), &generator)
        }
    }
}
