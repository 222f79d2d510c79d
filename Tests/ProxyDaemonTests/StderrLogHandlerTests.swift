import Glibc
import Logging
import ProxyDaemon
import Testing

@Suite struct StderrLogHandlerTests {
    @Test func connectionFieldsComeFirstInAFixedOrderThenTheRestSorted() {
        let line = StderrLogHandler.line(
            timestamp: "2026-11-25T20:08:05.123Z",
            level: .info,
            message: "connection closed",
            metadata: [
                "zeta": "1", "alpha": "2", "outcome": "relayed", "conn": "4", "client": "127.0.0.1:50942",
                "duration_ms": "12", "user": "app",
            ]
        )
        #expect(
            line == "2026-11-25T20:08:05.123Z info connection closed conn=4 client=127.0.0.1:50942 user=app "
                + "outcome=relayed duration_ms=12 alpha=2 zeta=1\n"
        )
    }

    @Test func valuesWithSpacesAreQuotedAndControlCharactersEscaped() {
        let line = StderrLogHandler.line(
            timestamp: "T",
            level: .warning,
            message: "refused\nforged line",
            metadata: ["user": "evil\nconn=1", "reason": "needs TLS \"now\""]
        )
        #expect(!line.dropLast().contains("\n"), "a client's newline must not start a line of its own")
        #expect(line.hasPrefix("T warning refused\\nforged line user="))
        #expect(line.contains(#"reason="needs TLS \"now\"""#))
        #expect(line.hasSuffix("\n"))
    }

    @Test func orderedKeysLeadWithTheConnectionFields() {
        #expect(
            StderrLogHandler.orderedKeys(["b": "1", "tls": "TLSv1.3", "a": "2", "conn": "1"]) == [
                "conn", "tls", "a", "b",
            ]
        )
        #expect(StderrLogHandler.orderedKeys([:]) == [])
    }

    @Test func timestampIsUTCWithTruncatedMilliseconds() {
        // 2026-11-25T20:08:05Z is 1_795_637_285 seconds after the epoch.
        #expect(
            StderrLogHandler.timestamp(timespec(tv_sec: 1_795_637_285, tv_nsec: 123_999_999))
                == "2026-11-25T20:08:05.123Z"
        )
        #expect(StderrLogHandler.timestamp(timespec(tv_sec: 0, tv_nsec: 7_000_000)) == "1970-01-01T00:00:00.007Z")
    }

    @Test func handlerMetadataIsMergedWithTheEventsWhichWin() {
        var handler = StderrLogHandler(logLevel: .debug)
        handler[metadataKey: "conn"] = "9"
        #expect(handler[metadataKey: "conn"] == "9")
        #expect(handler.logLevel == .debug)
    }
}
