import AccessPolicy
import MariaDBWire
import NIOCore
import Testing

@testable import ProxyServer

/// `policy_mode = AUDIT`: what the accounts file would refuse is let through and reported once.
@Suite struct PolicyAuditModeTests {
    typealias T = ClientLoginStateMachineTests
    typealias Checks = LoginAccountCheckTests
    typealias Machine = ClientLoginStateMachine

    static func auditRules(_ sql: String, strict: Bool = false) throws -> Machine.AccountRules {
        var rules = try Checks.rules(sql, strict: strict)
        rules.auditOnly = true
        return rules
    }

    @Test func aLoginTheAccountsFileRefusesIsRelayedAndItsReasonKept() throws {
        var m = Checks().loggingIn()
        let actions = m.backendPacketReceived(
            Packet(sequenceID: 2, payload: Checks.okPayload),
            rules: try Self.auditRules(Checks.requireX509)
        )
        #expect(actions.contains(.startRelaying))
        #expect(T().sentToClient(actions) == [Packet(sequenceID: 2, payload: Checks.okPayload)])
        #expect(m.outcome == .relayed)
        let reason = m.takeAuditedRefusal()
        #expect(reason?.contains("X509") == true, "\(reason ?? "nothing recorded")")
        let again = m.takeAuditedRefusal()
        #expect(again == nil, "reported once")
    }

    @Test func strictAccountsAndChangesOfUserAreAuditedToo() throws {
        var m = Checks().loggingIn()
        _ = m.backendPacketReceived(
            Packet(sequenceID: 2, payload: Checks.okPayload),
            rules: try Self.auditRules("CREATE USER 'other'@'%';", strict: true)
        )
        #expect(m.isRelaying)
        let strictReason = m.takeAuditedRefusal()
        #expect(strictReason?.contains("strict_accounts") == true)
        let decision = m.changeUserRequested(Checks.changeUser("app"), rules: try Self.auditRules(Checks.requireX509))
        #expect(decision == .forward)
        let changeReason = m.takeAuditedRefusal()
        #expect(changeReason != nil)
        #expect(m.refusedChangeUsers == 0)
    }

    @Test func anAllowedLoginLeavesNothingToReport() throws {
        var m = Checks().loggingIn()
        _ = m.backendPacketReceived(
            Packet(sequenceID: 2, payload: Checks.okPayload),
            rules: try Self.auditRules(Checks.requireNone)
        )
        #expect(m.isRelaying)
        let reason = m.takeAuditedRefusal()
        #expect(reason == nil)
    }

    @Test func requireSecureTransportIsEnforcedWhateverTheMode() throws {
        // 3159 is decided before any account is known; the audit flag only travels with the rules.
        var m = T().machine(requireSecureTransport: true)
        _ = m.backendGreetingReceived(T.greeting())
        let actions = m.clientPacketReceived(T.response(seq: 1))
        #expect(try ERRPacket.decode(#require(T().sentToClient(actions).first).payload).code == 3159)
    }
}
