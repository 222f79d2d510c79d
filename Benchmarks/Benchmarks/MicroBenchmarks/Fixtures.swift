// Inputs for the micro-benchmarks, built once at start-up (outside every measured loop).
//
// The captured packets are copies of FuzzTesting/Sources/FuzzSupport/Captured.swift (real
// MariaDB 10.11 traffic). They are copied rather than shared so that a change to the fuzz seeds
// never moves a benchmark baseline.
import AccessPolicy
import MariaDBWire
import NIOCore
import ProxyServer
import ProxyTLS

enum Fixtures {
    // MARK: - Captured packets (payloads, without the 4-byte header)

    /// mariadbd 10.11.19's greeting (protocol 10, mysql_native_password). 100 bytes.
    static let greeting: [UInt8] = [
        0x0A, 0x35, 0x2E, 0x35, 0x2E, 0x35, 0x2D, 0x31, 0x30, 0x2E, 0x31, 0x31, 0x2E, 0x31, 0x39, 0x2D,
        0x4D, 0x61, 0x72, 0x69, 0x61, 0x44, 0x42, 0x2D, 0x30, 0x2B, 0x64, 0x65, 0x62, 0x31, 0x32, 0x75,
        0x31, 0x00, 0x07, 0x00, 0x00, 0x00, 0x6D, 0x5A, 0x5D, 0x42, 0x72, 0x3A, 0x68, 0x7C, 0x00, 0xFE,
        0xF7, 0x08, 0x02, 0x00, 0xFF, 0x81, 0x15, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1D, 0x00, 0x00,
        0x00, 0x58, 0x24, 0x49, 0x24, 0x73, 0x3A, 0x63, 0x67, 0x5B, 0x70, 0x45, 0x44, 0x00, 0x6D, 0x79,
        0x73, 0x71, 0x6C, 0x5F, 0x6E, 0x61, 0x74, 0x69, 0x76, 0x65, 0x5F, 0x70, 0x61, 0x73, 0x73, 0x77,
        0x6F, 0x72, 0x64, 0x00,
    ]

    /// The `mariadb` 10.11 CLI's HandshakeResponse41: user `app`, 20-byte native-password scramble,
    /// mysql_native_password, 7 connect attributes. 206 bytes.
    static let handshakeResponse: [UInt8] = [
        0x84, 0xA2, 0xBF, 0x00, 0x00, 0x00, 0x10, 0x00, 0x21, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1D, 0x00, 0x00, 0x00,
        0x61, 0x70, 0x70, 0x00, 0x14, 0x00, 0x7D, 0x07, 0x8A, 0x84, 0x32, 0x0A, 0xCD, 0x12, 0x14, 0x65,
        0xFB, 0x1E, 0x0A, 0x66, 0x09, 0x0D, 0x42, 0xF6, 0x06, 0x6D, 0x79, 0x73, 0x71, 0x6C, 0x5F, 0x6E,
        0x61, 0x74, 0x69, 0x76, 0x65, 0x5F, 0x70, 0x61, 0x73, 0x73, 0x77, 0x6F, 0x72, 0x64, 0x00, 0x7E,
        0x03, 0x5F, 0x6F, 0x73, 0x05, 0x4C, 0x69, 0x6E, 0x75, 0x78, 0x0C, 0x5F, 0x63, 0x6C, 0x69, 0x65,
        0x6E, 0x74, 0x5F, 0x6E, 0x61, 0x6D, 0x65, 0x0A, 0x6C, 0x69, 0x62, 0x6D, 0x61, 0x72, 0x69, 0x61,
        0x64, 0x62, 0x04, 0x5F, 0x70, 0x69, 0x64, 0x04, 0x34, 0x32, 0x31, 0x30, 0x0F, 0x5F, 0x63, 0x6C,
        0x69, 0x65, 0x6E, 0x74, 0x5F, 0x76, 0x65, 0x72, 0x73, 0x69, 0x6F, 0x6E, 0x06, 0x33, 0x2E, 0x33,
        0x2E, 0x32, 0x30, 0x09, 0x5F, 0x70, 0x6C, 0x61, 0x74, 0x66, 0x6F, 0x72, 0x6D, 0x06, 0x78, 0x38,
        0x36, 0x5F, 0x36, 0x34, 0x0C, 0x70, 0x72, 0x6F, 0x67, 0x72, 0x61, 0x6D, 0x5F, 0x6E, 0x61, 0x6D,
        0x65, 0x05, 0x6D, 0x79, 0x73, 0x71, 0x6C, 0x0C, 0x5F, 0x73, 0x65, 0x72, 0x76, 0x65, 0x72, 0x5F,
        0x68, 0x6F, 0x73, 0x74, 0x09, 0x31, 0x32, 0x37, 0x2E, 0x30, 0x2E, 0x30, 0x2E, 0x31,
    ]

    /// The `mariadb --ssl` CLI's SSLRequest. 32 bytes.
    static let sslRequest: [UInt8] = [
        0x84, 0xAA, 0xBF, 0x00, 0x00, 0x00, 0x10, 0x00, 0x21, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1D, 0x00, 0x00, 0x00,
    ]

    /// mariadb-test's COM_CHANGE_USER to `app` (database `fuzzcap`), libmariadb 10.11. 189 bytes.
    static let changeUser: [UInt8] = [
        0x11, 0x61, 0x70, 0x70, 0x00, 0x14, 0xD0, 0x6C, 0xA2, 0x70, 0x8D, 0x22, 0xB7, 0x0A, 0xD1, 0x82,
        0x9F, 0xD6, 0x0E, 0x6A, 0xEB, 0xE1, 0xD7, 0x13, 0x86, 0xB5, 0x66, 0x75, 0x7A, 0x7A, 0x63, 0x61,
        0x70, 0x00, 0x08, 0x00, 0x6D, 0x79, 0x73, 0x71, 0x6C, 0x5F, 0x6E, 0x61, 0x74, 0x69, 0x76, 0x65,
        0x5F, 0x70, 0x61, 0x73, 0x73, 0x77, 0x6F, 0x72, 0x64, 0x00, 0x82, 0x03, 0x5F, 0x6F, 0x73, 0x05,
        0x4C, 0x69, 0x6E, 0x75, 0x78, 0x0C, 0x5F, 0x63, 0x6C, 0x69, 0x65, 0x6E, 0x74, 0x5F, 0x6E, 0x61,
        0x6D, 0x65, 0x0A, 0x6C, 0x69, 0x62, 0x6D, 0x61, 0x72, 0x69, 0x61, 0x64, 0x62, 0x04, 0x5F, 0x70,
        0x69, 0x64, 0x04, 0x34, 0x34, 0x31, 0x37, 0x0F, 0x5F, 0x63, 0x6C, 0x69, 0x65, 0x6E, 0x74, 0x5F,
        0x76, 0x65, 0x72, 0x73, 0x69, 0x6F, 0x6E, 0x06, 0x33, 0x2E, 0x33, 0x2E, 0x32, 0x30, 0x09, 0x5F,
        0x70, 0x6C, 0x61, 0x74, 0x66, 0x6F, 0x72, 0x6D, 0x06, 0x78, 0x38, 0x36, 0x5F, 0x36, 0x34, 0x0C,
        0x70, 0x72, 0x6F, 0x67, 0x72, 0x61, 0x6D, 0x5F, 0x6E, 0x61, 0x6D, 0x65, 0x09, 0x6D, 0x79, 0x73,
        0x71, 0x6C, 0x74, 0x65, 0x73, 0x74, 0x0C, 0x5F, 0x73, 0x65, 0x72, 0x76, 0x65, 0x72, 0x5F, 0x68,
        0x6F, 0x73, 0x74, 0x09, 0x31, 0x32, 0x37, 0x2E, 0x30, 0x2E, 0x30, 0x2E, 0x31,
    ]

    /// OK after authentication: 0 rows, insert id 0, SERVER_STATUS_AUTOCOMMIT, 0 warnings.
    static let ok: [UInt8] = [0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00]

    // MARK: - Wire bytes

    /// One packet as it travels: 3-byte length, sequence id, payload.
    static func wire(_ sequenceID: UInt8, _ payload: [UInt8]) -> ByteBuffer {
        encodePacket(sequenceID: sequenceID, payload: ByteBuffer(bytes: payload))
    }

    /// A sysbench oltp_read_only-like command mix: mostly point selects, some range queries.
    /// Ids from a fixed LCG, so every run (and every baseline) sees the same bytes.
    static let queries: [String] = {
        var state: UInt64 = 0x2545_F491_4F6C_DD1D
        func next(_ bound: UInt64) -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return (state >> 33) % bound
        }
        return (0..<64).map { index in
            let id = 1 + next(1_000_000)
            let table = 1 + next(16)
            switch index % 16 {
            case 10: return "SELECT c FROM sbtest\(table) WHERE id BETWEEN \(id) AND \(id + 99)"
            case 11: return "SELECT SUM(k) FROM sbtest\(table) WHERE id BETWEEN \(id) AND \(id + 99)"
            case 12: return "SELECT c FROM sbtest\(table) WHERE id BETWEEN \(id) AND \(id + 99) ORDER BY c"
            case 13: return "SELECT DISTINCT c FROM sbtest\(table) WHERE id BETWEEN \(id) AND \(id + 99) ORDER BY c"
            default: return "SELECT c FROM sbtest\(table) WHERE id=\(id)"
            }
        }
    }()

    /// Each query as one COM_QUERY packet (sequence id 0), 35–90 bytes on the wire.
    static let queryPackets: [ByteBuffer] = queries.map { wire(0, [CommandByte.query] + Array($0.utf8)) }

    /// The 64 COM_QUERY packets back to back in one buffer (a pipelining client, or one large read).
    static let queryStream: ByteBuffer = {
        var stream = ByteBufferAllocator().buffer(capacity: queryPackets.reduce(0) { $0 + $1.readableBytes })
        for packet in queryPackets { stream.writeImmutableBuffer(packet) }
        return stream
    }()

    /// A COM_QUERY with a 1 MiB payload (a multi-row INSERT), as 16 KiB reads (the last one short).
    static let bigQueryReads: [ByteBuffer] = {
        let payloadLength = 1 << 20
        var sql = Array("INSERT INTO sbtest1 (id, k, c, pad) VALUES ".utf8)
        var row = 0
        while sql.count < payloadLength - 1 {
            sql += Array("(\(row),\(row * 7 % 1000),'\(String(repeating: "x", count: 60))','pad'),".utf8)
            row += 1
        }
        var payload: [UInt8] = [CommandByte.query] + sql.prefix(payloadLength - 1)
        payload[payload.count - 1] = UInt8(ascii: ";")
        let packet = wire(0, payload)
        return stride(from: 0, to: packet.readableBytes, by: 16 * 1024).map { offset in
            packet.getSlice(at: packet.readerIndex + offset, length: min(16 * 1024, packet.readableBytes - offset))!
        }
    }()

    static let bigQueryTotalBytes = bigQueryReads.reduce(0) { $0 + $1.readableBytes }

    /// One read holding a whole COM_CHANGE_USER packet.
    static let changeUserRead: ByteBuffer = wire(0, changeUser)

    // MARK: - Accounts

    /// A realistic accounts file with 50 accounts: the example of config/accounts.sql (verbatim),
    /// local admin rows, anonymous rows, an application user with several host patterns (exact,
    /// netmask, wildcard, DNS, `%`), 30 service accounts as `SHOW CREATE USER` / `SHOW GRANTS`
    /// print them, and a few ALTER/DROP statements.
    static let accountsSQL: String = {
        var sql = """
            -- mariadb-tls-proxy accounts file (benchmark fixture).

            CREATE USER 'alice'@'localhost'
              REQUIRE NONE;

            CREATE USER 'alice'@'%'
              REQUIRE SUBJECT '/CN=alice/O=My Dom, Inc./C=US/ST=Oregon/L=Portland'
              AND ISSUER '/C=FI/ST=Somewhere/L=City/ O=Some Company/CN=Peter Parker/emailAddress=p.parker@marvel.com'
              AND CIPHER 'ECDHE-ECDSA-AES256-SHA384';

            CREATE USER 'reporting'@'%' REQUIRE SSL;
            CREATE USER 'batch'@'10.0.%' REQUIRE X509;
            CREATE USER 'legacy_app'@'%' REQUIRE CIPHER 'ECDHE-RSA-AES256-GCM-SHA384';
            ALTER USER 'reporting'@'%' REQUIRE X509;

            -- Local administration.
            CREATE USER `root`@`localhost` IDENTIFIED VIA mysql_native_password USING 'invalid' OR unix_socket;
            CREATE USER 'root'@'127.0.0.1' IDENTIFIED BY PASSWORD '*81F5E21E35407D884A6CD4A731AEBFB6AF209E1B';
            CREATE USER 'root'@'::1' IDENTIFIED BY PASSWORD '*81F5E21E35407D884A6CD4A731AEBFB6AF209E1B';
            CREATE USER 'monitor'@'127.0.0.1' IDENTIFIED BY 'secret' WITH MAX_USER_CONNECTIONS 5 ACCOUNT LOCK;

            -- Anonymous rows.
            CREATE USER ''@'localhost' REQUIRE SSL;
            CREATE USER ''@'10.99.%' REQUIRE X509;

            -- The application, from several networks.
            CREATE USER 'app'@'localhost';
            CREATE USER 'app'@'10.20.30.0/255.255.255.0' REQUIRE X509;
            CREATE USER 'app'@'10.20.%'
              REQUIRE SUBJECT '/C=FI/O=Example/OU=Apps/CN=app' AND ISSUER '/C=FI/O=Example/CN=Example Issuing CA'
              AND CIPHER 'TLS_AES_256_GCM_SHA384';
            CREATE USER 'app'@'app-%.corp.example.com' REQUIRE SSL;
            CREATE USER 'app'@'db-client.corp.example.com' REQUIRE SSL;
            GRANT SELECT, INSERT, UPDATE, DELETE ON `shop`.* TO 'app'@'%' REQUIRE X509;

            -- Services (SHOW CREATE USER / SHOW GRANTS output).

            """
        let requirements = [
            "REQUIRE NONE", "REQUIRE SSL", "REQUIRE X509",
            "REQUIRE ISSUER '/C=FI/O=Example/CN=Example Issuing CA' SUBJECT '/C=FI/O=Example/OU=Services/CN=svc'",
            "REQUIRE CIPHER 'ECDHE-RSA-AES256-GCM-SHA384'",
        ]
        for index in 1...30 {
            let name = "svc" + (index < 10 ? "0" : "") + "\(index)"
            let host: String
            switch index % 5 {
            case 0: host = "10.\(index).0.0/255.255.0.0"
            case 1: host = "10.\(index).%"
            case 2: host = "192.168.\(index).%"
            case 3: host = "%"
            default: host = "10.\(index).1.\(index)"
            }
            let hash = "*" + String(repeating: String(index % 10), count: 40)
            sql += "CREATE USER `\(name)`@`\(host)` IDENTIFIED BY PASSWORD '\(hash)' \(requirements[index % 5]);\n"
            if index % 3 == 0 {
                sql += "GRANT SELECT ON `svc`.* TO `\(name)`@`\(host)`;\n"
            }
        }
        sql += """

            -- ETL and operations.
            CREATE USER 'etl'@'192.168.1.%' REQUIRE SSL;
            CREATE USER 'etl'@'192.168.%' REQUIRE X509 PASSWORD EXPIRE INTERVAL 90 DAY;
            CREATE USER 'dba'@'%' REQUIRE X509;
            CREATE USER 'tmp'@'%';
            DROP USER 'tmp'@'%';
            DROP USER IF EXISTS 'former'@'%';

            """
        return sql
    }()

    static let policy: AccessPolicy = {
        do {
            let policy = try AccessPolicy.parse(accountsSQL, fileName: "bench-accounts.sql")
            precondition(policy.rows.count == 50, "fixture has \(policy.rows.count) accounts, expected 50")
            return policy
        } catch {
            fatalError("the benchmark accounts file does not parse: \(error)")
        }
    }()

    /// The application's client: TCP from 10.20.99.7 (matches 'app'@'10.20.%' only).
    static let appClient = ClientIdentity.tcp(ip: "10.20.99.7", resolvedHost: nil)

    /// TLS 1.3 with the application's certificate (satisfies the 'app'@'10.20.%' row).
    static let appTLS = TLSFacts(
        version: "TLSv1.3",
        cipher: "TLS_AES_256_GCM_SHA384",
        peerSubject: "/C=FI/O=Example/OU=Apps/CN=app",
        peerIssuer: "/C=FI/O=Example/CN=Example Issuing CA",
        verifyResult: 0,
        sessionReused: false
    )

    static let appSecurity = ConnectionSecurity(
        isTLS: true,
        cipher: appTLS.cipher,
        peerCertificatePresented: true,
        verifyResultIsOK: true,
        peerSubject: appTLS.peerSubject,
        peerIssuer: appTLS.peerIssuer
    )

    // MARK: - Login

    /// The capabilities the proxy advertises for the captured greeting with TLS on (as
    /// ClientLoginStateMachine computes them): HandshakeResponse decoding intersects with these.
    static let advertisedCapabilities: CapabilityFlags = {
        var capabilities = try! InitialHandshake.decode(ByteBuffer(bytes: greeting)).capabilities
        capabilities.remove([.compress, .zstdCompression])
        capabilities.insert(.ssl)
        return capabilities
    }()

    /// The accounts the benchmark logins are checked against (strict_accounts on).
    static let rules = ClientLoginStateMachine.AccountRules(policy: policy, strictAccounts: true)

    /// A TLS login of `app` from 10.20.99.7 with a client certificate, played through the login
    /// state machine as ProxyConnection does (SSLRequest, TLS, HandshakeResponse, backend OK).
    /// Returns the machine, relaying (or, if something refused, not: callers check once).
    static func tlsLogin(rules: ClientLoginStateMachine.AccountRules = rules) -> ClientLoginStateMachine {
        var login = ClientLoginStateMachine(
            configuration: .init(
                transport: .tcp,
                requireSecureTransport: true,
                tlsAvailable: true
            )
        )
        var pending = login.clientIdentified(appClient)
        pending += login.backendPacketReceived(
            Packet(sequenceID: 0, payload: ByteBuffer(bytes: greeting)),
            rules: rules
        )
        var clientPackets = [
            Packet(sequenceID: 1, payload: ByteBuffer(bytes: sslRequest)),
            Packet(sequenceID: 2, payload: ByteBuffer(bytes: handshakeResponse)),
        ]
        var closed = false
        while !closed && !login.isRelaying {
            if !pending.isEmpty {
                switch pending.removeFirst() {
                case .sendToClient, .startRelaying, .startBackendTLS: break
                case .sendToBackend(let forwarded):
                    pending += login.backendPacketReceived(
                        Packet(sequenceID: forwarded.sequenceID &+ 1, payload: ByteBuffer(bytes: ok)),
                        rules: rules
                    )
                case .startTLS: pending += login.tlsEstablished(appTLS)
                case .close: closed = true
                }
                continue
            }
            guard login.wantsClientPacket, !clientPackets.isEmpty else { break }
            pending = login.clientPacketReceived(clientPackets.removeFirst())
        }
        return login
    }
}

/// The relay's client → backend path as ProxyConnection+ClientRelay.swift runs it: each read through
/// the COM_CHANGE_USER interceptor, each held COM_CHANGE_USER checked by the logged-in machine.
struct RelaySession {
    var login = Fixtures.tlsLogin()
    var interceptor = ChangeUserInterceptor()

    /// One client read; `forward` gets what goes to the backend, `changeUser` each held packet and
    /// whether it was allowed.
    mutating func read(
        _ buffer: ByteBuffer,
        forward: (ByteBuffer) -> Void,
        changeUser: (ByteBuffer, Bool) -> Void
    ) -> ChangeUserInterceptor.Result {
        var login = self.login
        defer { self.login = login }
        return interceptor.feed(buffer, forward: forward) { command, packet in
            guard command == CommandByte.changeUser else {
                changeUser(packet, false)
                return true
            }
            let payload = packet.getSlice(at: packet.readerIndex + 4, length: packet.readableBytes - 4) ?? ByteBuffer()
            changeUser(packet, login.changeUserRequested(payload, rules: Fixtures.rules) == .forward)
            return true
        }
    }
}
