import NIOCore

/// Decides when a step of a TLS handshake may compute (the proxy's `max_handshakes`).
///
/// ``TLSServerHandler`` asks for a slot each time OpenSSL has client input to process: once the
/// client's whole ClientHello has arrived (see ``ClientHelloScanner``), and again when the next
/// flight of a handshake that is still unfinished arrives. It gives the slot back as soon as
/// OpenSSL has consumed that input (and written its answer), when the handshake completes or
/// fails, passes ``TLSServerHandler/handshakeDeadline``, or the connection closes. So a slot is
/// never held while the proxy waits for the client. A connection waiting for a slot keeps its
/// bytes buffered and costs no CPU. Implementations are shared by every event loop, so they must
/// be thread-safe.
public protocol TLSHandshakeAdmission: Sendable {
    /// Asks for a slot. When one is free now, returns `grantedNow == true` and `whenGranted` is
    /// never called; otherwise `whenGranted` runs later on `eventLoop`, once the slot is held.
    /// Either way the ticket must be given back exactly once with ``release(_:)``, also when the
    /// connection closes while still waiting.
    ///
    /// - Parameter continuing: true for a later step of a handshake that already had a slot (the
    ///   client's answer to the server's flight); such requests are served before new handshakes.
    func requestSlot(
        on eventLoop: EventLoop,
        continuing: Bool,
        whenGranted: @escaping @Sendable () -> Void
    ) -> (ticket: UInt64, grantedNow: Bool)

    /// Frees the ticket's slot (or withdraws its request). Unknown or already released tickets are ignored.
    func release(_ ticket: UInt64)
}
