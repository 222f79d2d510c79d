/// One client connection attribute (`_client_name`, `_pid`, …) from a HandshakeResponse.
public struct ConnectAttribute: Sendable, Hashable {
    public var key: String
    public var value: String

    public init(key: String, value: String) {
        self.key = key
        self.value = value
    }
}
