import Testing

@testable import SystemdIntegration

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// `SocketActivation.classify` on descriptors the test creates itself (no LISTEN_FDS, no dup2 onto fd 3).
@Suite("Socket classification")
struct SocketClassificationTests {
    @Test func listeningIPv4SocketIsTCP() throws {
        let fd = try #require(TestSockets.tcp())
        defer { close(fd) }
        #expect(SocketActivation.classify(fileDescriptor: fd) == .tcp)
    }

    @Test func listeningIPv6SocketIsTCP() throws {
        guard let fd = TestSockets.tcp(ipv6: true) else { return }  // no IPv6 loopback here: nothing to check
        defer { close(fd) }
        #expect(SocketActivation.classify(fileDescriptor: fd) == .tcp)
    }

    @Test func boundButNotListeningTCPSocketIsOther() throws {
        let fd = try #require(TestSockets.tcp(listen: false))
        defer { close(fd) }
        #expect(SocketActivation.classify(fileDescriptor: fd) == .other)
    }

    @Test func listeningUnixStreamSocketIsUnix() {
        let directory = TestSockets.temporaryDirectory()
        let fd = TestSockets.unix(path: directory + "/s.sock")
        defer {
            close(fd)
            TestSockets.removeDirectory(directory, files: ["s.sock"])
        }
        #expect(SocketActivation.classify(fileDescriptor: fd) == .unix)
    }

    @Test func unixDatagramSocketIsOther() {
        let directory = TestSockets.temporaryDirectory()
        let fd = TestSockets.unix(path: directory + "/d.sock", type: TestSockets.datagram)
        defer {
            close(fd)
            TestSockets.removeDirectory(directory, files: ["d.sock"])
        }
        #expect(SocketActivation.classify(fileDescriptor: fd) == .other)
    }

    @Test func pipeIsOther() {
        var ends: [Int32] = [-1, -1]
        #expect(pipe(&ends) == 0)
        defer { ends.forEach { close($0) } }
        #expect(SocketActivation.classify(fileDescriptor: ends[0]) == .other)
    }

    @Test func invalidDescriptorIsOther() {
        #expect(SocketActivation.classify(fileDescriptor: -1) == .other)
    }
}
