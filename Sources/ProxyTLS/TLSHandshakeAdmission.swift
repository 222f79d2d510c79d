import NIOCore

/// Decides when a TLS handshake may start computing (the proxy's `max_handshakes`).
///
/// ``TLSServerHandler`` asks for a slot once the client's whole ClientHello has arrived (see
/// ``ClientHelloScanner``) and gives it back when the handshake completes, fails, passes
/// ``TLSServerHandler/handshakeDeadline``, or the connection closes. A connection waiting for a
/// slot keeps its ClientHello buffered and costs no CPU. Implementations are shared by every event
/// loop, so they must be thread-safe.
public protocol TLSHandshakeAdmission: Sendable {
    /// Asks for a slot. When one is free now, returns `grantedNow == true` and `whenGranted` is
    /// never called; otherwise `whenGranted` runs later on `eventLoop`, once the slot is held.
    /// Either way the ticket must be given back exactly once with ``release(_:)``, also when the
    /// connection closes while still waiting.
    func requestSlot(on eventLoop: EventLoop, whenGranted: @escaping @Sendable () -> Void) -> (ticket: UInt64, grantedNow: Bool)

    /// Frees the ticket's slot (or withdraws its request). Unknown or already released tickets are ignored.
    func release(_ ticket: UInt64)
}
