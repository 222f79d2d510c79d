import MariaDBWire
import NIOCore
import ProxyConfiguration
import Testing

@testable import ProxyServer

/// The typed outcome: its log text (stable: operators and the integration tests match on it), its
/// metric label, and which outcomes each `log_connections` mode logs.
@Suite struct ConnectionOutcomeTests {
    static let cases: [(ConnectionOutcome, text: String, label: String, refusalOrFailure: Bool)] = [
        (.relayed, "relayed", "relayed", false),
        (.tooManyConnections, "refused: 1040 too many connections", "too_many_connections", true),
        (.insecureTransport, "refused: 3159 insecure transport", "insecure_transport", true),
        (
            .accessDenied(reason: "no account row for user 'x' matches host '127.0.0.1'"),
            "refused: 1045 no account row for user 'x' matches host '127.0.0.1'", "access_denied", true
        ),
        (.badHandshake(reason: "packet too large"), "refused: 1043 bad handshake: packet too large", "refused", true),
        (.characterSetRefused("ucs2"), "refused: 1231 character set ucs2", "refused", true),
        (.packetsOutOfOrder, "refused: 1156 packets out of order during authentication", "refused", true),
        (
            .tlsFailed("TLS handshake failed: unsupported protocol"),
            "refused: TLS handshake failed: unsupported protocol", "tls_failed", true
        ),
        (.tlsFailed("TLS error: bad record mac"), "refused: TLS error: bad record mac", "tls_failed", true),
        (.tlsNotStarted("handler error"), "cannot start TLS: handler error", "tls_failed", true),
        (
            .refusedByBackend(code: 1045, message: "Access denied for user 'app'@'localhost' (using password: YES)"),
            "refused by backend: 1045 Access denied for user 'app'@'localhost' (using password: YES)",
            "backend_refused", true
        ),
        (
            .backendRefusedConnection(code: 1040, message: "Too many connections"),
            "backend refused: 1040 Too many connections", "backend_refused", true
        ),
        (.backendRefusedConnection(code: nil, message: ""), "backend refused", "backend_refused", true),
        (
            .backendFailed("backend 127.0.0.1:1: connection refused"),
            "backend failed: backend 127.0.0.1:1: connection refused", "backend_failed", true
        ),
        (.loginTimedOut(seconds: 3), "dropped: login not finished within connect_timeout (3s)", "timeout", true),
        (.clientClosedDuringLogin, "client closed the connection during login", "client_closed", false),
        (.clientDisconnectedDuringLogin, "client disconnected during login", "client_closed", false),
        (.incomplete, "incomplete", "client_closed", false),
    ]

    @Test func logTextsAndLabels() {
        for (outcome, text, label, refusalOrFailure) in Self.cases {
            #expect(outcome.description == text)
            #expect("\(outcome)" == text)
            #expect(outcome.metricLabel == label, "\(text)")
            #expect(outcome.isRefusalOrFailure == refusalOrFailure, "\(text)")
            #expect(ConnectionOutcome.metricLabels.contains(outcome.metricLabel))
        }
        // Every label is reachable.
        #expect(Set(Self.cases.map(\.label)) == Set(ConnectionOutcome.metricLabels))
    }

    @Test func whichLinesEachModeLogs() {
        for (outcome, _, _, refusalOrFailure) in Self.cases {
            #expect(ConnectionLogLine.logs(outcome, under: .all))
            #expect(ConnectionLogLine.logs(outcome, under: .refused) == refusalOrFailure)
            #expect(!ConnectionLogLine.logs(outcome, under: .off))
        }
    }

    @Test func theMachineKeepsTheBackendsConnectionID() throws {
        var m = ClientLoginStateMachine(
            configuration: .init(transport: .tcp, requireSecureTransport: false, tlsAvailable: true)
        )
        _ = m.clientIdentified(.tcp(ip: "127.0.0.1", resolvedHost: nil))
        #expect(m.backendConnectionID == nil)
        _ = m.backendGreetingReceived(ClientLoginStateMachineTests.greeting())
        #expect(m.backendConnectionID == 7)
    }

    @Test func aBackendThatRefusesBeforeItsGreetingIsNamedAsBefore() {
        var m = ClientLoginStateMachine(
            configuration: .init(transport: .tcp, requireSecureTransport: false, tlsAvailable: true)
        )
        _ = m.clientIdentified(.tcp(ip: "127.0.0.1", resolvedHost: nil))
        let err = ERRPacket(code: 1040, sqlState: nil, message: "Too many connections")
        _ = m.backendGreetingReceived(Packet(sequenceID: 0, payload: err.encode()))
        #expect(m.outcome == .backendRefusedConnection(code: 1040, message: "Too many connections"))
        #expect(m.outcome.metricLabel == "backend_refused")
    }

    @Test(arguments: [
        ("192.0.2.7", 50942, "192.0.2.7:50942"),
        ("::ffff:192.0.2.7", 50942, "192.0.2.7:50942"),
        ("::FFFF:127.0.0.1", 3306, "127.0.0.1:3306"),
        ("2001:db8::1", 50942, "[2001:db8::1]:50942"),
        ("::1", 1, "[::1]:1"),
    ])
    func clientAddressInTheLog(ip: String, port: Int, expected: String) throws {
        let address = try SocketAddress(ipAddress: ip, port: port)
        #expect(ClientAddress.logText(address, transport: .tcp) == expected)
    }

    @Test func socketClientsAreLocalhost() {
        #expect(ClientAddress.logText(nil, transport: .unixSocket) == "localhost")
        #expect(ClientAddress.logText(nil, transport: .tcp) == "unknown")
    }
}
