import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

/// Turns NIO's connect errors into the short reason a DBA reads in the client's ERR packet.
enum BackendErrorDescription {
    static func describe(_ error: Error, timeoutSeconds: Int) -> String {
        switch error {
        case let error as NIOConnectionError:
            if let first = error.connectionErrors.first {
                return describe(first.error, timeoutSeconds: timeoutSeconds)
            }
            if let dns = error.dnsAAAAError ?? error.dnsAError {
                return "cannot resolve host (\(dns))"
            }
            return "cannot connect"
        case let error as IOError:
            return String(cString: strerror(error.errnoCode)).lowercased()
        case ChannelError.connectTimeout:
            return "connect timed out after \(timeoutSeconds)s"
        default:
            return "\(error)"
        }
    }
}
