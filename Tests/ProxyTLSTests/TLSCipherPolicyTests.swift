import COpenSSL
import NIOCore
import NIOEmbedded
import Testing

@testable import ProxyTLS

/// The suites, ciphers and groups a client ends up with (``TLSCipherPolicy``).
@Suite struct TLSCipherPolicyTests {
    static let allSuites = "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256"

    /// The facts of a handshake between `client` and a server with `settings`.
    private func negotiate(
        _ client: MemoryTLSClient,
        _ configure: (inout TLSSettings) -> Void = { _ in }
    ) throws -> TLSFacts? {
        let recorder = InboundRecorder()
        let channel = EmbeddedChannel()
        let handler = TLSServerHandler(
            context: try TestCertificate.serverContext(configure),
            initialCiphertext: nil,
            plaintextAfterHandshakeFailure: nil
        )
        try channel.pipeline.syncOperations.addHandlers([handler, recorder])
        try converse(client, with: channel)
        _ = try? channel.finish(acceptAlreadyClosed: true)
        return recorder.handshakes.first
    }

    @Test func aClientWithOpenSSLsDefaultOrderGetsWhatMariaDBGivesIt() throws {
        // REQUIRE CIPHER compares this name: it must be MariaDB's (OpenSSL's default order).
        let facts = try negotiate(MemoryTLSClient(suites: Self.allSuites))
        #expect(facts?.cipher == "TLS_AES_256_GCM_SHA384")
        #expect(TLSCipherPolicy.defaultTLS13Suites == Self.allSuites)
    }

    @Test func aClientPreferringChaChaGetsChaCha() throws {
        // As MariaDB, where the client's order wins; the server's order alone would give AES-256.
        let facts = try negotiate(MemoryTLSClient(suites: "TLS_CHACHA20_POLY1305_SHA256:TLS_AES_256_GCM_SHA384"))
        #expect(facts?.cipher == "TLS_CHACHA20_POLY1305_SHA256")
    }

    @Test func aTLS13SslCipherSetsTheSuitesAndKeepsTheDefaultTLS12List() throws {
        let suite = try negotiate(MemoryTLSClient(suites: Self.allSuites)) { $0.cipher = "TLS_AES_256_GCM_SHA384" }
        #expect(suite?.cipher == "TLS_AES_256_GCM_SHA384")
        let tls12 = try negotiate(MemoryTLSClient(maximumVersion: TLS1_2_VERSION)) {
            $0.cipher = "TLS_AES_256_GCM_SHA384"
        }
        #expect(
            tls12?.cipher == "ECDHE-ECDSA-AES256-GCM-SHA384",
            "MariaDB sets the TLS 1.2 list only when no TLS 1.3 suite was taken"
        )
    }

    @Test func aTLS12SslCipherSetsTheListAndKeepsTheDefaultSuites() throws {
        let configure: (inout TLSSettings) -> Void = { $0.cipher = "ECDHE-ECDSA-AES256-GCM-SHA384" }
        let tls12 = try negotiate(MemoryTLSClient(maximumVersion: TLS1_2_VERSION), configure)
        #expect(tls12?.cipher == "ECDHE-ECDSA-AES256-GCM-SHA384")
        let tls13 = try negotiate(MemoryTLSClient(suites: Self.allSuites), configure)
        #expect(tls13?.version == "TLSv1.3")
        #expect(tls13?.cipher == TLSCipherPolicy.defaultTLS13Suites.split(separator: ":").first.map(String.init))
    }

    @Test func anUnknownSslCipherIsAnError() {
        #expect(throws: TLSConfigurationError.self) {
            try TestCertificate.serverContext { $0.cipher = "NO-SUCH-CIPHER" }
        }
    }

    @Test func tlsVersionLimitsTheProtocol() throws {
        let facts = try negotiate(MemoryTLSClient()) { $0.versions = [.tls1_2] }
        #expect(facts?.version == "TLSv1.2")
    }

    @Test func theServerPrefersX25519() throws {
        #expect(TLSCipherPolicy.groups.hasPrefix("X25519:"))
        // TLS 1.2 lets the server pick the group from the client's list.
        let client = MemoryTLSClient(groups: "P-256:X25519", maximumVersion: TLS1_2_VERSION)
        _ = try negotiate(client)
        #expect(copenssl_SSL_get_negotiated_group(client.ssl) == NID_X25519)
    }
}
