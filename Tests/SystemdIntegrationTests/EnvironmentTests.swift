import Logging
import ServiceLifecycle
import ServiceLifecycleTestKit
import Testing

@testable import SystemdIntegration

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Everything that reads or writes process environment variables (NOTIFY_SOCKET, WATCHDOG_*,
/// LISTEN_*, JOURNAL_STREAM) lives in this one serialized suite, so no two tests race on setenv.
@Suite("systemd environment", .serialized)
struct EnvironmentTests {
    /// Sets (or, with nil, unsets) variables for the duration of `body`, then restores them.
    static func withEnvironment<T>(_ values: [String: String?], _ body: () async throws -> T) async rethrows -> T {
        let saved = values.keys.map { ($0, getenv($0).map { String(cString: $0) }) }
        for (name, value) in values { set(name, value) }
        defer { for (name, value) in saved { set(name, value) } }
        return try await body()
    }

    private static func set(_ name: String, _ value: String?) {
        if let value { setenv(name, value, 1) } else { unsetenv(name) }
    }

    // MARK: SystemdNotifier

    @Test func notifierIsANoOpWithoutNotifySocket() async {
        await Self.withEnvironment(["NOTIFY_SOCKET": nil]) {
            #expect(!SystemdNotifier.isEnabled)
            SystemdNotifier.ready(status: "ignored")
            SystemdNotifier.reloading()
            SystemdNotifier.watchdog()
            SystemdNotifier.send("READY=1")
        }
        await Self.withEnvironment(["NOTIFY_SOCKET": ""]) {
            #expect(!SystemdNotifier.isEnabled)
        }
    }

    @Test func notifierSendsEachMessageAsOneDatagram() async throws {
        let listener = NotifyListener()
        try await Self.withEnvironment(["NOTIFY_SOCKET": listener.path]) {
            #expect(SystemdNotifier.isEnabled)

            SystemdNotifier.ready(status: "accepting on 0.0.0.0:3306")
            #expect(listener.receive() == "READY=1\nSTATUS=accepting on 0.0.0.0:3306")

            let before = SystemdNotifier.monotonicMicroseconds()
            SystemdNotifier.reloading()
            let reloading = try #require(listener.receive())
            let lines = reloading.split(separator: "\n")
            #expect(lines.count == 2)
            #expect(lines.first == "RELOADING=1")
            let stamp = try #require(
                lines.last.flatMap { $0.hasPrefix("MONOTONIC_USEC=") ? UInt64($0.dropFirst(15)) : nil }
            )
            #expect(stamp >= before && stamp <= SystemdNotifier.monotonicMicroseconds())

            SystemdNotifier.readyAfterReload(status: "reloaded")
            #expect(listener.receive() == "READY=1\nSTATUS=reloaded")

            SystemdNotifier.status("3 connections")
            #expect(listener.receive() == "STATUS=3 connections")

            SystemdNotifier.stopping(status: "draining 3 sessions")
            #expect(listener.receive() == "STOPPING=1\nSTATUS=draining 3 sessions")

            SystemdNotifier.watchdog()
            #expect(listener.receive() == "WATCHDOG=1")

            SystemdNotifier.send("EXTEND_TIMEOUT_USEC=5000000")
            #expect(listener.receive() == "EXTEND_TIMEOUT_USEC=5000000")

            // A newline in a status must not smuggle in another assignment.
            SystemdNotifier.status("Failed to refresh SSL\nREADY=1")
            #expect(listener.receive() == "STATUS=Failed to refresh SSL READY=1")
            #expect(listener.isEmpty())
        }
    }

    // MARK: WatchdogService

    @Test func watchdogIntervalFollowsWatchdogUsecForThisProcessOnly() async {
        await Self.withEnvironment(["WATCHDOG_USEC": nil, "WATCHDOG_PID": nil]) {
            #expect(WatchdogService.interval == nil)
        }
        await Self.withEnvironment(["WATCHDOG_USEC": "30000000", "WATCHDOG_PID": nil]) {
            #expect(WatchdogService.interval == .seconds(30))
        }
        await Self.withEnvironment(["WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "\(getpid())"]) {
            #expect(WatchdogService.interval == .seconds(30))
        }
        await Self.withEnvironment(["WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "\(getpid() + 1)"]) {
            #expect(WatchdogService.interval == nil)
        }
        await Self.withEnvironment(["WATCHDOG_USEC": "garbage", "WATCHDOG_PID": nil]) {
            #expect(WatchdogService.interval == nil)
        }
    }

    @Test func watchdogPingsAtHalfTheIntervalUntilGracefulShutdown() async throws {
        let listener = NotifyListener()
        try await Self.withEnvironment(
            ["NOTIFY_SOCKET": listener.path, "WATCHDOG_USEC": "200000", "WATCHDOG_PID": "\(getpid())"]
        ) {
            let service = WatchdogService(logger: Logger(label: "test"))
            try await testGracefulShutdown { trigger in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await service.run() }
                    // First ping at once, then every 100 ms.
                    let clock = ContinuousClock()
                    let start = clock.now
                    for _ in 0..<3 { #expect(await listener.receiveAsync() == "WATCHDOG=1") }
                    #expect(clock.now - start >= .milliseconds(150))
                    trigger.triggerGracefulShutdown()
                    try await group.waitForAll()  // run() returns
                }
            }
        }
    }

    @Test func watchdogWithoutWatchdogUsecWaitsForGracefulShutdown() async throws {
        let listener = NotifyListener()
        try await Self.withEnvironment(["NOTIFY_SOCKET": listener.path, "WATCHDOG_USEC": nil, "WATCHDOG_PID": nil]) {
            let service = WatchdogService(logger: Logger(label: "test"))
            try await testGracefulShutdown { trigger in
                try await withThrowingTaskGroup(of: Bool.self) { group in
                    group.addTask {
                        try await service.run()
                        return true
                    }
                    group.addTask {
                        try await Task.sleep(for: .milliseconds(200))
                        return false
                    }
                    // The timer wins: run() did not return before shutdown was requested.
                    let first = try await group.next()
                    #expect(first == false)
                    trigger.triggerGracefulShutdown()
                    let second = try await group.next()
                    #expect(second == true)
                }
            }
            #expect(listener.isEmpty())  // and it never pinged
        }
    }

    // MARK: SocketActivation

    @Test func noSocketsWithoutListenFds() async {
        await Self.withEnvironment(["LISTEN_FDS": nil, "LISTEN_PID": nil, "LISTEN_FDNAMES": nil]) {
            #expect(SocketActivation.inheritedSockets() == [])
        }
    }

    @Test func socketsForAnotherProcessAreIgnored() async {
        await Self.withEnvironment(["LISTEN_FDS": "1", "LISTEN_PID": "\(getpid() + 1)", "LISTEN_FDNAMES": "tcp"]) {
            #expect(SocketActivation.inheritedSockets() == [])
        }
    }

    /// Runs in a child process of its own: sd_listen_fds starts at fd 3, which tests running in
    /// parallel in this process may open and close at any moment (seen under ThreadSanitizer). The
    /// child puts /dev/null on fd 3, checks the name comes from LISTEN_FDNAMES and that the
    /// variables are consumed (a second call finds nothing).
    @Test func inheritedSocketsTakeNamesAndUnsetTheEnvironment() async {
        await #expect(processExitsWith: .success) {
            let devNull = open("/dev/null", O_RDONLY)
            guard devNull >= 0, dup2(devNull, 3) == 3 else { exit(2) }
            setenv("LISTEN_FDS", "1", 1)
            setenv("LISTEN_PID", "\(getpid())", 1)
            setenv("LISTEN_FDNAMES", "mariadb-tls-proxy.socket", 1)
            let sockets = SocketActivation.inheritedSockets()
            guard sockets == [InheritedSocket(fileDescriptor: 3, name: "mariadb-tls-proxy.socket", kind: .other)] else {
                exit(3)
            }
            guard getenv("LISTEN_FDS") == nil, getenv("LISTEN_PID") == nil, getenv("LISTEN_FDNAMES") == nil else {
                exit(4)
            }
            guard SocketActivation.inheritedSockets().isEmpty else { exit(5) }
            exit(0)
        }
    }

    // MARK: Journal

    @Test func stderrIsJournalComparesJournalStreamWithStderr() async {
        var status = stat()
        #expect(fstat(STDERR_FILENO, &status) == 0)
        await Self.withEnvironment(["JOURNAL_STREAM": "\(status.st_dev):\(status.st_ino)"]) {
            #expect(Journal.stderrIsJournal)
        }
        await Self.withEnvironment(["JOURNAL_STREAM": "\(status.st_dev):\(status.st_ino + 1)"]) {
            #expect(!Journal.stderrIsJournal)
        }
        await Self.withEnvironment(["JOURNAL_STREAM": nil]) {
            #expect(!Journal.stderrIsJournal)
        }
    }

    /// Without journald (no /run/systemd/journal/socket here) the handler falls back to stderr; with it,
    /// the entry goes to the journal. Either way logging must not fail or crash.
    @Test func journalLogHandlerLogsThroughSwiftLog() {
        var logger = Logger(label: "mariadb-tls-proxy") { JournalLogHandler(label: $0, logLevel: .info) }
        logger[metadataKey: "conn"] = "1"
        #expect(logger.logLevel == .info)
        #expect(logger[metadataKey: "conn"] == "1")
        logger.debug("filtered out")
        logger.info(
            "journal handler test",
            metadata: ["client": "127.0.0.1:1", "tls": "TLSv1.3/TLS_AES_128_GCM_SHA256"]
        )
    }
}
