import AccessPolicy
import MariaDBWire
import NIOCore
import ProxyTLS
import Testing

@testable import ProxyServer

/// When the account check runs and against which accounts: after the backend accepted the
/// credentials (so the answer depends on the password as MariaDB's does), against the accounts
/// current at that moment, and with MariaDB's limit on refused changes of user.
@Suite struct LoginAccountCheckTests {
    typealias T = ClientLoginStateMachineTests
    typealias Machine = ClientLoginStateMachine

    static let okPayload = ByteBuffer(bytes: [0, 0, 0, 2, 0, 0, 0])

    static func rules(_ sql: String, strict: Bool = false) throws -> Machine.AccountRules {
        Machine.AccountRules(policy: try AccessPolicy.parse(sql, fileName: "accounts.sql"), strictAccounts: strict)
    }

    static let requireX509 = "CREATE USER 'app'@'%' REQUIRE X509;"
    static let requireNone = "CREATE USER 'app'@'%' REQUIRE NONE;"

    /// A machine that has relayed a plaintext login of 'app' to the backend.
    func loggingIn() -> Machine {
        var m = T().machine()
        _ = m.backendGreetingReceived(T.greeting())
        _ = m.clientPacketReceived(T.response(seq: 1))
        return m
    }

    @Test func credentialsOfARefusedAccountStillGoToTheBackend() throws {
        var m = T().machine()
        _ = m.backendGreetingReceived(T.greeting())
        let actions = m.clientPacketReceived(T.response(seq: 1))
        #expect(T().sentToBackend(actions).count == 1)
        #expect(T().sentToClient(actions).isEmpty)
    }

    @Test func wrongPasswordIsAnsweredByTheBackendWhateverTheAccountRequires() throws {
        var m = loggingIn()
        let backendErr = MariaDBError.accessDenied(user: "app", host: "localhost", usingPassword: true)
        let actions = m.backendPacketReceived(
            Packet(sequenceID: 2, payload: backendErr.encode()),
            rules: try Self.rules(Self.requireX509)
        )
        #expect(T().sentToClient(actions) == [Packet(sequenceID: 2, payload: backendErr.encode())])
        #expect(T().sentToBackend(actions).isEmpty)
        #expect(actions.last == .close)
    }

    @Test func acceptedLoginOfARefusedAccountBecomes1045AndTheBackendSessionEnds() throws {
        var m = loggingIn()
        let actions = m.backendPacketReceived(
            Packet(sequenceID: 2, payload: Self.okPayload),
            rules: try Self.rules(Self.requireX509)
        )
        let answer = try #require(T().sentToClient(actions).first)
        #expect(answer.sequenceID == 2)
        let err = try ERRPacket.decode(answer.payload)
        #expect(err.code == 1045)
        #expect(err.sqlState == "28000")
        #expect(err.message == "Access denied for user 'app'@'127.0.0.1' (using password: YES)")
        #expect(T().sentToBackend(actions) == [Packet(sequenceID: 0, payload: ByteBuffer(bytes: [CommandByte.quit]))])
        #expect(actions.last == .close)
        #expect(!actions.contains(.startRelaying))
        #expect(m.outcome.description.hasPrefix("refused: 1045"))
        #expect(m.outcome.metricLabel == "access_denied")
    }

    @Test func strictAccountsRefusalAlsoWaitsForTheBackend() throws {
        var m = loggingIn()
        let rules = try Self.rules("CREATE USER 'other'@'%';", strict: true)
        let actions = m.backendPacketReceived(Packet(sequenceID: 2, payload: Self.okPayload), rules: rules)
        #expect(try ERRPacket.decode(#require(T().sentToClient(actions).first).payload).code == 1045)
    }

    @Test func theAccountsCurrentAtTheOKDecide() throws {
        // Accepted while the accounts said REQUIRE NONE, checked when the OK comes under REQUIRE X509.
        var m = loggingIn()
        let actions = m.backendPacketReceived(
            Packet(sequenceID: 2, payload: Self.okPayload),
            rules: try Self.rules(Self.requireX509)
        )
        #expect(actions.last == .close)
        var allowed = loggingIn()
        #expect(
            allowed.backendPacketReceived(
                Packet(sequenceID: 2, payload: Self.okPayload),
                rules: try Self.rules(Self.requireNone)
            ).contains(.startRelaying)
        )
    }

    func relaying() throws -> Machine {
        var m = loggingIn()
        #expect(
            m.backendPacketReceived(
                Packet(sequenceID: 2, payload: Self.okPayload),
                rules: try Self.rules(Self.requireNone)
            ).contains(.startRelaying)
        )
        return m
    }

    static func changeUser(_ user: String) -> ByteBuffer {
        ChangeUserRequest(
            username: user,
            authResponse: Array(repeating: 1, count: 20),
            characterSet: 45,
            authPluginName: "mysql_native_password"
        )
        .encode(capabilities: T.clientCapabilities)
    }

    @Test func changeOfUserIsCheckedAgainstTheRulesPassedNow() throws {
        var m = try relaying()
        #expect(m.changeUserRequested(Self.changeUser("app"), rules: try Self.rules(Self.requireNone)) == .forward)
        guard case .refuse = m.changeUserRequested(Self.changeUser("app"), rules: try Self.rules(Self.requireX509))
        else {
            Issue.record("a change to an account that now requires X509 must be refused")
            return
        }
    }

    @Test func threeRefusedChangesThenUnknownCommandAndClose() throws {
        var m = try relaying()
        let rules = try Self.rules(Self.requireX509)
        for _ in 0..<Machine.maxRefusedChangeUsers {
            guard case .refuse(let answer) = m.changeUserRequested(Self.changeUser("app"), rules: rules) else {
                Issue.record("expected a refusal")
                return
            }
            #expect(try ERRPacket.decode(answer.payload).code == 1045)
        }
        // Even an allowed account: MariaDB answers every change after three failures with 1047.
        guard
            case .refuseAndClose(let last) = m.changeUserRequested(
                Self.changeUser("app"),
                rules: try Self.rules(Self.requireNone)
            )
        else {
            Issue.record("the fourth change must close the session")
            return
        }
        let err = try ERRPacket.decode(last.payload)
        #expect(err.code == 1047)
        #expect(err.sqlState == "08S01")
        #expect(err.message == "Unknown command")
    }

    @Test func malformedChangesCountAsRefused() throws {
        var m = try relaying()
        for _ in 0..<Machine.maxRefusedChangeUsers {
            guard case .refuse(let answer) = m.changeUserRequested(ByteBuffer(bytes: [0x11]), rules: .init()) else {
                Issue.record("expected a refusal")
                return
            }
            #expect(try ERRPacket.decode(answer.payload).code == 1047)
        }
        guard case .refuseAndClose = m.changeUserRequested(Self.changeUser("app"), rules: .init()) else {
            Issue.record("the fourth change must close the session")
            return
        }
    }
}
