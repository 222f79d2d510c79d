import AccessPolicy
import MariaDBWire

/// The vocabulary of ``ClientLoginStateMachine``: what it is checked against, what it answers a
/// change of user with, and the actions the glue carries out.
extension ClientLoginStateMachine {
    /// The accounts the checks run against. MariaDB checks a login and a change of user against
    /// the privileges current at that moment, so the glue passes the server's current snapshot to
    /// each check, not the one the connection was accepted with.
    public struct AccountRules: Sendable {
        /// Per-account REQUIRE rules; nil = no accounts file (the backend alone decides).
        public var policy: AccessPolicy?
        /// Refuse users the accounts file does not mention.
        public var strictAccounts: Bool
        /// `policy_mode = AUDIT`: a refusal of the accounts file is recorded, not enforced.
        public var auditOnly: Bool

        public init(policy: AccessPolicy? = nil, strictAccounts: Bool = false, auditOnly: Bool = false) {
            self.policy = policy
            self.strictAccounts = strictAccounts
            self.auditOnly = auditOnly
        }
    }

    /// The answer to a COM_CHANGE_USER seen in the relayed session.
    public enum ChangeUserDecision: Equatable, Sendable {
        /// Pass the packet on to the backend (which still checks the password).
        case forward
        /// Answer the client with this packet and drop the command.
        case refuse(Packet)
        /// The change after the last one allowed to fail: answer with this packet, then close.
        case refuseAndClose(Packet)
    }

    /// MariaDB allows three unsuccessful COM_CHANGE_USER per connection and answers every later
    /// one with ER_UNKNOWN_COM_ERROR (sql/sql_parse.cc, dispatch_command, "to limit COM_CHANGE_USER
    /// ability to brute-force passwords"); the proxy then also closes the session.
    public static let maxRefusedChangeUsers = 3

    /// What the machine asks the connection to do, in order.
    public enum Action: Equatable, Sendable {
        /// Write this packet to the client.
        case sendToClient(Packet)
        /// Write this packet to the backend.
        case sendToBackend(Packet)
        /// Insert the TLS handler; if the handshake fails, send `failurePacket` in plaintext (1043).
        case startTLS(failurePacket: Packet)
        /// backend_ssl: send this SSLRequest to the backend in plaintext, then start TLS with it;
        /// the packets after it are written through the TLS connection.
        case startBackendTLS(sslRequest: Packet)
        /// Login finished with the backend's OK: switch to the byte relay.
        case startRelaying
        /// Send nothing more; close both sides once what was sent has been written.
        case close
    }
}
