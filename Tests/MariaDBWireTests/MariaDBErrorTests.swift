import NIOCore
import Testing

@testable import MariaDBWire

@Suite struct MariaDBErrorTests {
    @Test func exactCodesStatesAndTexts() {
        #expect(
            MariaDBError.tooManyConnections()
                == ERRPacket(code: 1040, sqlState: "08004", message: "Too many connections")
        )
        #expect(MariaDBError.badHandshake() == ERRPacket(code: 1043, sqlState: "08S01", message: "Bad handshake"))
        #expect(
            MariaDBError.accessDenied(user: "app", host: "10.0.0.7", usingPassword: true)
                == ERRPacket(
                    code: 1045,
                    sqlState: "28000",
                    message: "Access denied for user 'app'@'10.0.0.7' (using password: YES)"
                )
        )
        #expect(
            MariaDBError.accessDenied(user: "", host: "localhost", usingPassword: false).message
                == "Access denied for user ''@'localhost' (using password: NO)"
        )
        #expect(
            MariaDBError.accessDeniedWithoutPasswordMention(user: "root", host: "localhost")
                == ERRPacket(code: 1698, sqlState: "28000", message: "Access denied for user 'root'@'localhost'")
        )
        #expect(
            MariaDBError.insecureTransport()
                == ERRPacket(
                    code: 3159,
                    sqlState: "08004",
                    message: "Connections using insecure transport are prohibited while --require_secure_transport=ON."
                )
        )
        #expect(
            MariaDBError.unknownError("Failed to refresh SSL, error: x")
                == ERRPacket(code: 1105, sqlState: "HY000", message: "Failed to refresh SSL, error: x")
        )
        #expect(
            MariaDBError.backendUnavailable("Connection refused")
                == ERRPacket(
                    code: 1429,
                    sqlState: "HY000",
                    message: "Unable to connect to foreign data source: Connection refused"
                )
        )
        #expect(
            MariaDBError.hostNotAllowed(host: "192.0.2.1")
                == ERRPacket(
                    code: 1130,
                    sqlState: "HY000",
                    message: "Host '192.0.2.1' is not allowed to connect to this MariaDB server"
                )
        )
    }

    @Test func formatWidthsClipLikePrintf() {
        let reason = String(repeating: "r", count: 100)
        #expect(
            MariaDBError.backendUnavailable(reason).message
                == "Unable to connect to foreign data source: " + String(repeating: "r", count: 64)
        )
    }

    @Test func wireBytes() {
        #expect(bytes(MariaDBError.badHandshake().encode()) == hex("ff 13 04") + ascii("#08S01Bad handshake"))
        #expect(Array(bytes(MariaDBError.insecureTransport().encode()).prefix(9)) == hex("ff 57 0c") + ascii("#08004"))
        #expect(
            bytes(MariaDBError.tooManyConnections().encode(includeSQLState: false))
                == hex("ff 10 04") + ascii("Too many connections")
        )
    }
}
