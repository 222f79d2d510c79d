import MariaDBWire
import ProxyConfiguration

extension BackendProxyProtocol {
    /// The header format to send, nil for OFF.
    var headerVersion: ProxyProtocolHeader.Version? {
        switch self {
        case .off: return nil
        case .v1: return .v1
        case .v2: return .v2
        }
    }
}
