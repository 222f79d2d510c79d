import AccessPolicy
import MariaDBWire
import NIOCore
import ProxyServer

/// One connection as the daemon runs it, without channels: the login state machine with the
/// accounts it checks against, and after the login the relay's COM_CHANGE_USER interceptor.
public struct Login {
    public var machine: ClientLoginStateMachine
    public var interceptor: ChangeUserInterceptor
    public let rules: ClientLoginStateMachine.AccountRules

    public init(
        transport: ClientTransport,
        requireSecureTransport: Bool,
        tlsAvailable: Bool,
        policy: AccessPolicy?,
        strictAccounts: Bool,
        changeUserLimit: Int = 1 << 20
    ) {
        machine = ClientLoginStateMachine(
            configuration: .init(
                transport: transport,
                requireSecureTransport: requireSecureTransport,
                tlsAvailable: tlsAvailable
            )
        )
        interceptor = ChangeUserInterceptor(limit: changeUserLimit)
        rules = .init(policy: policy, strictAccounts: strictAccounts)
    }

    /// Relay phase, client → backend: `buffer` through the interceptor, as one read, as the daemon's
    /// ProxyConnection+ClientRelay.swift does it. `forward` gets the bytes written to the backend
    /// unchecked; `changeUser` each complete held packet (COM_CHANGE_USER or COM_MULTI, header
    /// included) with the answer the client gets instead: nil when it is forwarded (a COM_MULTI gets
    /// 1047, which the daemon has the backend send in its place). The daemon pauses the stream behind a
    /// refusal for a second and then goes on with it; the bytes and their order are the same, so this
    /// does not pause.
    /// - Returns: false when the interceptor refuses an oversized held packet (the session closes).
    public mutating func relayFromClient(
        _ buffer: ByteBuffer,
        forward: (ByteBuffer) -> Void,
        changeUser: (ByteBuffer, _ refusal: Packet?) -> Void
    ) -> Bool {
        var machine = self.machine
        defer { self.machine = machine }
        let rules = self.rules
        let result = interceptor.feed(buffer, forward: forward) { command, packet in
            guard command == CommandByte.changeUser else {
                changeUser(packet, Packet(sequenceID: 1, payload: MariaDBError.unknownCommand().encode()))
                return true
            }
            let payload = packet.getSlice(at: packet.readerIndex + 4, length: packet.readableBytes - 4) ?? ByteBuffer()
            switch machine.changeUserRequested(payload, rules: rules) {
            case .forward: changeUser(packet, nil)
            case .refuse(let answer), .refuseAndClose(let answer): changeUser(packet, answer)
            }
            return true
        }
        if case .oversized = result { return false }
        return true
    }
}
