/// Errors raised while decoding MariaDB wire data. Decoders never trap: anything unexpected becomes one of these.
public enum WireError: Error, Sendable, Equatable {
    /// A packet header announced this many payload bytes, more than the framer accepts.
    case packetTooLarge(Int)
    /// The bytes do not form the expected packet; the string is a short human reason such as
    /// `"greeting: missing server version terminator"`.
    case malformed(String)
}

extension WireError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .packetTooLarge(let length):
            return "packet too large: \(length) payload bytes"
        case .malformed(let reason):
            return "malformed packet: \(reason)"
        }
    }
}
