import CSystemd

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A listening socket passed in by systemd socket activation (`LISTEN_FDS`).
public struct InheritedSocket: Sendable, Equatable {
    /// The descriptor, `SD_LISTEN_FDS_START` (3) and up. It has `FD_CLOEXEC` set and is owned by the
    /// daemon from now on (hand it to NIO's `withBoundSocket`).
    public var fileDescriptor: Int32
    /// `FileDescriptorName=` of the socket unit (default: the unit's name), or "unknown" when
    /// `LISTEN_FDNAMES` is missing.
    public var name: String
    /// What the descriptor is, by socket family; the daemon routes on this rather than on ``name``
    /// because one `.socket` unit gives all of its `ListenStream=` sockets the same name.
    public var kind: Kind

    /// The socket family of a passed descriptor.
    public enum Kind: Sendable, Equatable {
        /// A listening `SOCK_STREAM` socket on AF_INET or AF_INET6.
        case tcp
        /// A listening `SOCK_STREAM` socket on AF_UNIX.
        case unix
        /// Anything else (datagram, FIFO, non-listening, not a socket): the daemon should refuse it.
        case other
    }

    public init(fileDescriptor: Int32, name: String, kind: Kind) {
        self.fileDescriptor = fileDescriptor
        self.name = name
        self.kind = kind
    }
}

/// Reading the sockets systemd passes to a socket-activated service.
public enum SocketActivation {
    /// The sockets passed by systemd, in `LISTEN_FDS` order; `[]` when not socket-activated
    /// (no `LISTEN_FDS`, or `LISTEN_PID` names another process).
    ///
    /// Uses `sd_listen_fds_with_names(unset_environment: 1)`: `LISTEN_PID`, `LISTEN_FDS` and
    /// `LISTEN_FDNAMES` are removed from the environment, so a second call returns `[]` and
    /// child processes never mistake the sockets for their own.
    public static func inheritedSockets() -> [InheritedSocket] {
        var names: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = nil
        let count = sd_listen_fds_with_names(1, &names)
        defer { freeNames(names) }
        guard count > 0 else { return [] }

        let start = csystemd_listen_fds_start()
        return (0..<count).map { index in
            let fd = start + index
            let name = names?[Int(index)].map { String(cString: $0) } ?? "unknown"
            return InheritedSocket(fileDescriptor: fd, name: name, kind: classify(fileDescriptor: fd))
        }
    }

    /// Classifies a descriptor by socket family: listening `SOCK_STREAM` on AF_INET/AF_INET6 is
    /// ``InheritedSocket/Kind/tcp``, on AF_UNIX ``InheritedSocket/Kind/unix``, anything else
    /// ``InheritedSocket/Kind/other``.
    public static func classify(fileDescriptor fd: Int32) -> InheritedSocket.Kind {
        if sd_is_socket_inet(fd, AF_UNSPEC, streamType, 1, 0) > 0 { return .tcp }
        if sd_is_socket_unix(fd, streamType, 1, nil, 0) > 0 { return .unix }
        return .other
    }

    // Glibc imports SOCK_STREAM as an enum case, Musl as an Int32.
    #if canImport(Glibc)
    private static let streamType = Int32(SOCK_STREAM.rawValue)
    #else
    private static let streamType = Int32(SOCK_STREAM)
    #endif

    /// `sd_listen_fds_with_names` allocates a NULL-terminated array of strings; the caller frees both.
    private static func freeNames(_ names: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) {
        guard let names else { return }
        var index = 0
        while let entry = names[index] {
            free(entry)
            index += 1
        }
        free(names)
    }
}
