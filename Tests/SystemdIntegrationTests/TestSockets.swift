#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Small POSIX socket helpers for the tests (no NIO: the point is to hand raw descriptors to libsystemd).
enum TestSockets {
    #if canImport(Glibc)
    static let stream = Int32(SOCK_STREAM.rawValue)
    static let datagram = Int32(SOCK_DGRAM.rawValue)
    #else
    static let stream = Int32(SOCK_STREAM)
    static let datagram = Int32(SOCK_DGRAM)
    #endif

    /// A TCP socket bound to an ephemeral loopback port; listening unless `listen` is false.
    /// Returns nil when the address family is unavailable (e.g. no IPv6 in a container).
    static func tcp(ipv6: Bool = false, listen shouldListen: Bool = true) -> Int32? {
        let fd = socket(ipv6 ? AF_INET6 : AF_INET, stream, 0)
        guard fd >= 0 else { return nil }
        let bound: Int32
        if ipv6 {
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_addr = in6addr_loopback
            bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size))
                }
            }
        } else {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = in_addr_t(0x7F00_0001).bigEndian
            bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
        guard bound == 0, !shouldListen || listen(fd, 16) == 0 else {
            close(fd)
            return nil
        }
        return fd
    }

    /// An AF_UNIX socket bound to `path`; stream sockets listen unless `listen` is false.
    static func unix(path: String, type: Int32 = stream, listen shouldListen: Bool = true) -> Int32 {
        let fd = socket(AF_UNIX, type, 0)
        precondition(fd >= 0, "socket(AF_UNIX) failed: \(errno)")
        unlink(path)
        var address = unixAddress(path)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        precondition(bound == 0, "bind(\(path)) failed: \(errno)")
        if type == stream && shouldListen { precondition(listen(fd, 16) == 0) }
        return fd
    }

    static func unixAddress(_ path: String) -> sockaddr_un {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        precondition(bytes.count < MemoryLayout.size(ofValue: address.sun_path), "socket path too long")
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        return address
    }

    /// A fresh private directory for socket files (short, so paths fit in sun_path).
    static func temporaryDirectory() -> String {
        var template = Array("/tmp/sdtest.XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(made != nil, "mkdtemp failed")
        return String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func removeDirectory(_ path: String, files: [String]) {
        for file in files { unlink(path + "/" + file) }
        rmdir(path)
    }
}

/// A test-owned `NOTIFY_SOCKET`: an AF_UNIX datagram socket that collects what sd_notify sends.
final class NotifyListener {
    let directory: String
    let path: String
    private let fd: Int32

    init() {
        directory = TestSockets.temporaryDirectory()
        path = directory + "/notify"
        fd = TestSockets.unix(path: path, type: TestSockets.datagram)
        var timeout = timeval(tv_sec: 2, tv_usec: 0)  // a missing datagram fails the test instead of hanging it
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit {
        close(fd)
        TestSockets.removeDirectory(directory, files: ["notify"])
    }

    /// The next datagram, or nil after the receive timeout.
    func receive() -> String? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard count >= 0 else { return nil }
        return String(decoding: buffer[..<count], as: UTF8.self)
    }

    /// Waits for a datagram without blocking a cooperative thread (the service under test needs
    /// one to send it): polls non-blockingly, for at most `timeout`.
    func receiveAsync(timeout: Duration = .seconds(10)) async -> String? {
        let deadline = ContinuousClock.now + timeout
        var buffer = [UInt8](repeating: 0, count: 4096)
        while ContinuousClock.now < deadline {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if count >= 0 { return String(decoding: buffer[..<count], as: UTF8.self) }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return nil
    }

    /// True when nothing is queued (non-blocking check).
    func isEmpty() -> Bool {
        var buffer = [UInt8](repeating: 0, count: 16)
        let count = buffer.withUnsafeMutableBytes {
            recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT) | Int32(MSG_PEEK))
        }
        return count < 0
    }
}
