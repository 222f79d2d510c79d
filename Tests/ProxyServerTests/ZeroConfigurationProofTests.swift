import AccessPolicy
import MariaDBWire
import NIOCore
import ProxyTLS
import Testing

@testable import ProxyServer

/// The zero-configuration TLS proof: known answers computed independently with Python's hashlib,
/// the OK rewrite, and the login state machine putting it in the initial login OK.
@Suite struct ZeroConfigurationProofTests {
    typealias Machine = ClientLoginStateMachine
    typealias Login = ClientLoginStateMachineTests

    /// SHA1(SHA1("secret")).
    static let nativeHash = "*14E65567ABDB5135D0CFD9A70B3032C179A49EE7"
    static let ed25519Key = "ZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7fH1+f4CBgoM"
    static let parsec = "P2:yMnKy8zNzs/Q0dLT1NXW19jZ:ZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7fH1+f4CBgoM"
    /// The greeting scramble of ``ClientLoginStateMachineTests/greeting()``: bytes 1…20.
    static let scramble = Array(UInt8(1)...UInt8(20))
    /// SHA-256("certificate"), standing for a certificate fingerprint.
    static let certificateSHA256 = SHA256Digest.hash(Array("certificate".utf8))
    /// hashlib.sha256(sha1(sha1(b"secret")) + bytes(range(1, 21)) + sha256(b"certificate")).hexdigest().upper()
    static let nativeProof = "88E2770F7B3AF4AEE2DB92972983F2BA41DE13F5AAA7A1BB1B25D43CA774B193"
    /// The same with b"P\x02" + bytes(range(200, 218)) + bytes(range(100, 132)) as the credential.
    static let parsecProof = "C3465A28973D5D7C4FA15B79CAC9BC8F16A7CBD1F468F3AFB17B8347F233E616"

    static func credential(_ sql: String) throws -> [UInt8] {
        try #require(
            try AccessPolicy.parse("CREATE USER a IDENTIFIED \(sql);", fileName: "t.sql").rows.first?.credentials.first?
                .salt
        )
    }

    @Test func knownAnswers() throws {
        #expect(Self.certificateSHA256.prefix(4) == [0x03, 0xD6, 0x6D, 0xD0])
        let native = ZeroConfigurationProof.info(
            salt: try Self.credential("BY PASSWORD '\(Self.nativeHash)'"),
            scramble: Self.scramble,
            certificateSHA256: Self.certificateSHA256
        )
        #expect(native == [0x01] + Array(Self.nativeProof.utf8))
        let parsec = ZeroConfigurationProof.info(
            salt: try Self.credential("VIA parsec USING '\(Self.parsec)'"),
            scramble: Self.scramble,
            certificateSHA256: Self.certificateSHA256
        )
        #expect(parsec == [0x01] + Array(Self.parsecProof.utf8))
    }

    static let info = [UInt8(0x01)] + Array(nativeProof.utf8)

    @Test func okWithoutSessionTrackingKeepsItsFields() throws {
        let caps: CapabilityFlags = [.protocol41]
        // affected rows 0, insert id 300 (lenenc 0xFC), status AUTOCOMMIT, 1 warning, backend info "x".
        let payload = ByteBuffer(bytes: [0x00, 0x00, 0xFC, 0x2C, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, UInt8(ascii: "x")])
        let out = try #require(ZeroConfigurationProof.replacingInfo(in: payload, with: Self.info, capabilities: caps))
        #expect(out == ByteBuffer(bytes: [0x00, 0x00, 0xFC, 0x2C, 0x01, 0x02, 0x00, 0x01, 0x00, 0x41] + Self.info))
        // An OK with no info at all gains one.
        let bare = ByteBuffer(bytes: [0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00])
        #expect(
            ZeroConfigurationProof.replacingInfo(in: bare, with: Self.info, capabilities: caps)
                == ByteBuffer(bytes: [0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x41] + Self.info)
        )
    }

    @Test func okWithSessionStateKeepsTheBlockAfterTheNewInfo() throws {
        let caps: CapabilityFlags = [.protocol41, .sessionTrack]
        // SESSION_TRACK_SYSTEM_VARIABLES: autocommit = ON.
        let state: [UInt8] =
            [0x00, 0x0E, 0x0A] + Array("autocommit".utf8) + [0x02, UInt8(ascii: "O"), UInt8(ascii: "N")]
        var payload = ByteBuffer(bytes: [0x00, 0x00, 0x00, 0x02, 0x40, 0x00, 0x00])
        payload.writeInteger(UInt8(0))  // empty info, present because SESSION_STATE_CHANGED
        payload.writeInteger(UInt8(state.count))
        payload.writeBytes(state)
        let out = try #require(ZeroConfigurationProof.replacingInfo(in: payload, with: Self.info, capabilities: caps))
        var expected = ByteBuffer(bytes: [0x00, 0x00, 0x00, 0x02, 0x40, 0x00, 0x00, 0x41] + Self.info)
        expected.writeInteger(UInt8(state.count))
        expected.writeBytes(state)
        #expect(out == expected)
        let decoded = try OKPacket.decode(out, capabilities: caps)
        #expect(decoded.sessionStateChanges == state)
        #expect(decoded.info == Self.info)
    }

    @Test func okThatDoesNotReencodeIsLeftAlone() {
        // Trailing bytes the decoder does not read: the proxy would lose them, so it does not rewrite.
        let payload = ByteBuffer(bytes: [0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x01, UInt8(ascii: "x"), 0x99])
        #expect(ZeroConfigurationProof.replacingInfo(in: payload, with: Self.info, capabilities: [.protocol41]) == nil)
        #expect(
            ZeroConfigurationProof.replacingInfo(
                in: ByteBuffer(bytes: [0x00, 0x00]),
                with: Self.info,
                capabilities: [.protocol41]
            ) == nil
        )
    }

    // MARK: In the login

    static let facts = TLSFacts(
        version: "TLSv1.3",
        cipher: "TLS_AES_256_GCM_SHA384",
        peerSubject: nil,
        peerIssuer: nil,
        verifyResult: 0,
        sessionReused: false,
        serverCertificateSHA256: certificateSHA256
    )
    static let backendOK = ByteBuffer(bytes: [0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00])

    func rules(_ sql: String, audit: Bool = false) throws -> Machine.AccountRules {
        Machine.AccountRules(policy: try AccessPolicy.parse(sql, fileName: "accounts.sql"), auditOnly: audit)
    }

    /// Runs a login as user `app` (TLS unless `tls` is false), with the backend packets of
    /// `authentication` answered by the client, and returns the packet the client gets for the OK.
    /// mysql_native_password's answer for `password` to `scramble` (sql/password.c scramble()).
    static func nativeAnswer(_ password: String = "secret", scramble: [UInt8] = scramble) -> [UInt8] {
        let stage1 = SHA1Digest.hash(Array(password.utf8))
        let mask = SHA1Digest.hash(scramble + SHA1Digest.hash(stage1))
        return zip(stage1, mask).map { $0 ^ $1 }
    }

    func loginOK(
        tls: Bool = true,
        accounts sql: String,
        switches: [String] = [],
        facts: TLSFacts = Self.facts,
        audit: Bool = false,
        password: String = "secret"
    ) throws -> Packet {
        let login = Login()
        var m = login.machine()
        _ = m.backendGreetingReceived(Login.greeting())
        var clientSeq: UInt8 = 1
        if tls {
            _ = m.clientPacketReceived(Login.sslRequest())
            _ = m.tlsEstablished(facts)
            clientSeq = 2
        }
        _ = m.clientPacketReceived(Login.response(seq: clientSeq, authResponse: Self.nativeAnswer(password)))
        var backendSeq: UInt8 = 2
        for plugin in switches {
            var payload = ByteBuffer(bytes: [0xFE])
            payload.writeString("\(plugin)\0")
            payload.writeBytes(Array(repeating: 7, count: 20))
            let toClient = try #require(
                login.sentToClient(
                    m.backendPacketReceived(
                        Packet(sequenceID: backendSeq, payload: payload),
                        rules: try rules(sql, audit: audit)
                    )
                ).first
            )
            let answer =
                plugin == "mysql_native_password"
                ? Self.nativeAnswer(password, scramble: Array(repeating: 7, count: 20)) : [1, 2, 3]
            _ = m.clientPacketReceived(Packet(sequenceID: toClient.sequenceID &+ 1, payload: ByteBuffer(bytes: answer)))
            backendSeq &+= 2
        }
        let actions = m.backendPacketReceived(
            Packet(sequenceID: backendSeq, payload: Self.backendOK),
            rules: try rules(sql, audit: audit)
        )
        #expect(actions.contains(.startRelaying))
        return try #require(login.sentToClient(actions).first)
    }

    static let proof = ByteBuffer(bytes: [0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x41] + info)

    @Test func nativeLoginOverTLSGetsTheProofAtTheSameSequenceID() throws {
        let ok = try loginOK(accounts: "CREATE USER app IDENTIFIED BY PASSWORD '\(Self.nativeHash)';")
        #expect(ok.payload == Self.proof)
        #expect(ok.sequenceID == 3)  // backend seq 2 → client seq 3 after the SSLRequest
    }

    @Test func multiPluginAccountUsesThePluginThatFinished() throws {
        let sql =
            "CREATE USER app IDENTIFIED VIA ed25519 USING '\(Self.ed25519Key)' OR mysql_native_password USING '\(Self.nativeHash)';"
        // ed25519 first (switch to client_ed25519), which fails, then native (switch back): native's proof.
        #expect(
            try loginOK(accounts: sql, switches: ["client_ed25519", "mysql_native_password"]).payload == Self.proof
        )
        // ed25519 succeeded: the ed25519 key's proof.
        let ed = try loginOK(accounts: sql, switches: ["client_ed25519"])
        let key = Array(UInt8(100)...UInt8(131))
        let edInfo = ZeroConfigurationProof.info(
            salt: key,
            scramble: Self.scramble,
            certificateSHA256: Self.certificateSHA256
        )
        #expect(ed.payload == ByteBuffer(bytes: [0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x41] + edInfo))
    }

    @Test(
        "no proof: plaintext client, unknown/passwordless/plaintext-given credential, unknown account, ambiguous or unhashable plugin",
        arguments: [
            (true, "CREATE USER app;", [String]()),
            (true, "CREATE USER app IDENTIFIED BY 'secret';", []),
            (true, "CREATE USER other IDENTIFIED BY PASSWORD '\(nativeHash)';", []),
            (true, "CREATE USER app IDENTIFIED VIA unix_socket OR mysql_native_password USING '\(nativeHash)';", []),
            (
                true, "CREATE USER app IDENTIFIED VIA pam USING 'x' OR mysql_native_password USING '\(nativeHash)';",
                ["dialog"]
            ),
            (true, "CREATE USER app IDENTIFIED VIA ed25519 USING '\(ed25519Key)';", ["mysql_native_password"]),
            (false, "CREATE USER app IDENTIFIED BY PASSWORD '\(nativeHash)';", []),
        ]
    )
    func noProof(tls: Bool, sql: String, switches: [String]) throws {
        #expect(try loginOK(tls: tls, accounts: sql, switches: switches).payload == Self.backendOK)
    }

    @Test func aLoginAuditModeLetsThroughGetsNoProof() throws {
        // The accounts file refused it (here REQUIRE X509 without a client certificate; as well a
        // row the backend did not check): proving that row's credential would leak its hash.
        let refused = "CREATE USER app IDENTIFIED BY PASSWORD '\(Self.nativeHash)' REQUIRE X509;"
        #expect(try loginOK(accounts: refused, audit: true).payload == Self.backendOK)
        let allowed = "CREATE USER app IDENTIFIED BY PASSWORD '\(Self.nativeHash)';"
        #expect(try loginOK(accounts: allowed, audit: true).payload == Self.proof)
    }

    @Test func aNativeAnswerThatDoesNotMatchTheStoredHashGetsNoProof() throws {
        // A stale accounts file (the password changed at the backend) or a row the backend did
        // not check: the client's answer does not come from the stored hash, which must not be
        // proved to it (it could be brute-forced from the proof).
        let sql = "CREATE USER app IDENTIFIED BY PASSWORD '\(Self.nativeHash)';"
        #expect(try loginOK(accounts: sql, password: "new-password").payload == Self.backendOK)
        #expect(try loginOK(accounts: sql).payload == Self.proof)
    }

    @Test func withoutTheServedCertificatesFingerprintNoProof() throws {
        let facts = TLSFacts(
            version: "TLSv1.3",
            cipher: "TLS_AES_256_GCM_SHA384",
            peerSubject: nil,
            peerIssuer: nil,
            verifyResult: 0,
            sessionReused: false
        )
        #expect(
            try loginOK(accounts: "CREATE USER app IDENTIFIED BY PASSWORD '\(Self.nativeHash)';", facts: facts).payload
                == Self.backendOK
        )
    }
}
