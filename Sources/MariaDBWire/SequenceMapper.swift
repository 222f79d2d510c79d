/// Maps sequence ids between the client leg and the backend leg during the connection phase.
///
/// The backend never sees the client's SSLRequest, so when the client upgraded to TLS every packet is one ahead
/// on the client side: client seq = backend seq + offset (offset 1 with TLS, else 0), modulo 256.
public struct SequenceMapper: Sendable, Equatable {
    public var offset: UInt8

    public init(offset: UInt8) {
        self.offset = offset
    }

    public func clientSequence(forBackend backendSequence: UInt8) -> UInt8 {
        backendSequence &+ offset
    }

    public func backendSequence(forClient clientSequence: UInt8) -> UInt8 {
        clientSequence &- offset
    }
}
