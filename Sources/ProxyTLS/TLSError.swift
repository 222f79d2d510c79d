/// What both TLS handlers send up their pipeline.
public enum TLSEvent: Sendable {
    /// The handshake finished (the peer's certificate verified, where verification is on); the
    /// facts are fixed for the life of the connection.
    case handshakeCompleted(TLSFacts)
}

/// Errors both TLS handlers report through `errorCaught` before they close the channel.
public enum TLSError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The handshake failed; OpenSSL's reason, with the verification error when that was the
    /// cause (e.g. "certificate verify failed: hostname mismatch").
    case handshakeFailed(String)
    /// A TLS error after the handshake (bad record, protocol violation).
    case protocolError(String)

    public var description: String {
        switch self {
        case .handshakeFailed(let reason): return "TLS handshake failed: \(reason)"
        case .protocolError(let reason): return "TLS error: \(reason)"
        }
    }
}
