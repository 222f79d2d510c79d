import AccessPolicy
import MariaDBWire
import NIOCore
import ProxyTLS

/// A public handle on the connection's pure state machines, for the libFuzzer targets in
/// `FuzzTesting/` (which link the module like any client and cannot `@testable import` it).
///
/// The daemon does not use this file. It adds no behaviour: each method forwards to
/// `ClientLoginStateMachine` or `ChangeUserInterceptor` exactly as `ProxyConnection` does, and
/// reports the machine's actions as ``Effect`` values, so a fuzz target can play both peers
/// (client and backend) without NIO channels.
public enum FuzzEntryPoints {
    /// What the login state machine asks the connection to do (its internal `Action`, mirrored).
    public enum Effect: Equatable, Sendable {
        case sendToClient(Packet)
        case sendToBackend(Packet)
        case startTLS(failurePacket: Packet)
        case startRelaying
        case close
    }

    /// One client connection: the login state machine and, after the login, the relay's
    /// COM_CHANGE_USER interceptor.
    public struct Login {
        private var machine: ClientLoginStateMachine
        private var interceptor: ChangeUserInterceptor
        private let rules: ClientLoginStateMachine.AccountRules

        /// - Parameter changeUserLimit: the interceptor's size cap (the daemon uses the default, 1 MiB).
        public init(
            transport: ClientTransport, requireSecureTransport: Bool, tlsAvailable: Bool,
            policy: AccessPolicy?, strictAccounts: Bool, skipNameResolve: Bool = true,
            changeUserLimit: Int = 1 << 20
        ) {
            machine = ClientLoginStateMachine(configuration: .init(
                transport: transport, requireSecureTransport: requireSecureTransport, tlsAvailable: tlsAvailable,
                skipNameResolve: skipNameResolve))
            rules = .init(policy: policy, strictAccounts: strictAccounts)
            interceptor = ChangeUserInterceptor(limit: changeUserLimit)
        }

        public var wantsClientPacket: Bool { machine.wantsClientPacket }
        public var isRelaying: Bool { machine.isRelaying }
        /// How the connection would end now (its log text is the connection log's outcome).
        public var outcome: ConnectionOutcome { machine.outcome }
        /// The user name the policy checked (the connection log's user).
        public var username: String? { machine.username }

        public mutating func clientIdentified(_ identity: ClientIdentity) -> [Effect] {
            Self.effects(machine.clientIdentified(identity))
        }

        public mutating func backendPacketReceived(_ packet: Packet) -> [Effect] {
            Self.effects(machine.backendPacketReceived(packet, rules: rules))
        }

        public mutating func clientPacketReceived(_ packet: Packet) -> [Effect] {
            Self.effects(machine.clientPacketReceived(packet))
        }

        public mutating func tlsEstablished(_ facts: TLSFacts) -> [Effect] {
            Self.effects(machine.tlsEstablished(facts))
        }

        public mutating func clientProtocolError(_ reason: String) -> [Effect] {
            Self.effects(machine.clientProtocolError(reason))
        }

        public mutating func backendFailed(_ reason: String) -> [Effect] {
            Self.effects(machine.backendFailed(reason))
        }

        /// Relay phase, client → backend: `buffer` through the interceptor, as one read.
        /// `forward` gets the bytes that would be written to the backend unchecked; `changeUser` gets
        /// each complete held packet (COM_CHANGE_USER or COM_MULTI, header included) with the
        /// connection's answer: nil when it would be forwarded, else the packet sent back to the
        /// client instead (a COM_MULTI always gets 1047).
        /// - Returns: false when the interceptor refuses an oversized held packet (the session closes).
        public mutating func relayFromClient(
            _ buffer: ByteBuffer, forward: (ByteBuffer) -> Void, changeUser: (ByteBuffer, _ refusal: Packet?) -> Void
        ) -> Bool {
            var interceptor = self.interceptor
            defer { self.interceptor = interceptor }
            let result = interceptor.feed(buffer, forward: forward) { command, packet in
                guard command == CommandByte.changeUser else {
                    // As ProxyConnection.replaceWithUnknownCommand: never forwarded; the client
                    // gets 1047 (written by the backend, in place of the packet, in the daemon).
                    changeUser(packet, Packet(sequenceID: 1, payload: MariaDBError.unknownCommand().encode()))
                    return true
                }
                // As ProxyConnection.handleChangeUser: the payload after the 4-byte header.
                let payload = packet.getSlice(at: packet.readerIndex + 4, length: packet.readableBytes - 4) ?? ByteBuffer()
                switch machine.changeUserRequested(payload, rules: rules) {
                case .forward: changeUser(packet, nil)
                case .refuse(let answer), .refuseAndClose(let answer): changeUser(packet, answer)
                }
                // The daemon pauses the stream behind a refusal for a second, then goes on with
                // it; the bytes and their order are the same, so the fuzz target does not pause.
                return true
            }
            if case .oversized = result { return false }
            return true
        }

        private static func effects(_ actions: [ClientLoginStateMachine.Action]) -> [Effect] {
            actions.map { action in
                switch action {
                case .sendToClient(let packet): .sendToClient(packet)
                case .sendToBackend(let packet): .sendToBackend(packet)
                case .startTLS(let failurePacket): .startTLS(failurePacket: failurePacket)
                // The SSLRequest goes to the backend as it is (the fuzz target runs without backend_ssl).
                case .startBackendTLS(let sslRequest): .sendToBackend(sslRequest)
                case .startRelaying: .startRelaying
                case .close: .close
                }
            }
        }
    }
}
