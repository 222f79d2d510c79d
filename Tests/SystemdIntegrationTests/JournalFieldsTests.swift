import Logging
import Testing

@testable import SystemdIntegration

/// `Journal.fields` is pure: these run in parallel with everything else.
@Suite("Journal fields")
struct JournalFieldsTests {
    private func fields(
        _ metadata: Logger.Metadata,
        level: Logger.Level = .info,
        message: String = "connection closed"
    ) -> [String] {
        Journal.fields(
            message: message,
            level: level,
            metadata: metadata,
            source: "ProxyServer",
            file: "ProxyServer/ConnectionLogLine.swift",
            function: "emit(to:)",
            line: 39
        )
    }

    @Test func standardFieldsComeFirstInFixedOrder() {
        #expect(
            fields([:]) == [
                "MESSAGE=connection closed",
                "PRIORITY=6",
                "SYSLOG_IDENTIFIER=mariadb-tls-proxy",
                "CODE_FILE=ProxyServer/ConnectionLogLine.swift",
                "CODE_LINE=39",
                "CODE_FUNC=emit(to:)",
                "CODE_MODULE=ProxyServer",
            ]
        )
    }

    @Test(arguments: [
        (Logger.Level.trace, 7), (.debug, 7), (.info, 6), (.notice, 5), (.warning, 4), (.error, 3), (.critical, 2),
    ])
    func priorityFollowsSyslog(level: Logger.Level, priority: Int) {
        #expect(Journal.priority(for: level) == priority)
        #expect(fields([:], level: level)[1] == "PRIORITY=\(priority)")
    }

    @Test func connectionLineGetsQueryableNames() {
        let metadata: Logger.Metadata = [
            "conn": "42",
            "client": "192.0.2.7:50942",
            "transport": "tcp",
            "tls": "TLSv1.3/TLS_AES_256_GCM_SHA384",
            "client_cert": "CN=app,O=Example",
            "user": "app",
            "account": "'app'@'%'",
            "outcome": "relayed",
            "outcome_kind": "relayed",
            "bytes_in": "1200",
            "bytes_out": "5600",
            "duration_ms": "12",
        ]
        let extra = Array(fields(metadata).dropFirst(7))
        #expect(
            extra == [
                "ACCOUNT='app'@'%'",
                "BYTES_IN=1200",
                "BYTES_OUT=5600",
                "CIPHER=TLS_AES_256_GCM_SHA384",
                "CLIENT_ADDR=192.0.2.7:50942",
                "CLIENT_CERT_SUBJECT=CN=app,O=Example",
                "CLIENT_IP=192.0.2.7",
                "CONNECTION_ID=42",
                "DURATION_MS=12",
                "OUTCOME=relayed",
                "OUTCOME_KIND=relayed",
                "TLS=TLSv1.3/TLS_AES_256_GCM_SHA384",
                "TLS_VERSION=TLSv1.3",
                "TRANSPORT=tcp",
                "USER_NAME=app",
            ]
        )
    }

    @Test func outcomeKindIsItsOwnFieldNotParsedFromTheOutcome() {
        let derived = fields(["outcome": "refused: 1045 Access denied for user 'x'@'h'"])
        #expect(!derived.contains { $0.hasPrefix("OUTCOME_KIND=") })
        #expect(fields(["outcome_kind": "refused by backend"]).contains("OUTCOME_KIND=refused by backend"))
    }

    @Test(arguments: [
        ("192.0.2.7:50942", "192.0.2.7" as String?),
        ("[2001:db8::1]:3306", "2001:db8::1"),
        ("[::1]:1", "::1"),
        ("localhost", nil),
        ("unknown", nil),
        ("2001:db8::1", nil),
        ("[::1]", nil),
        ("[]:1", nil),
        ("host:notaport", nil),
        (":1", nil),
    ])
    func clientIPIsTheAddressWithoutPort(address: String, ip: String?) {
        #expect(Journal.hostPart(ofAddress: address) == ip)
        let all = fields(["client": .string(address)])
        #expect(all.first { $0.hasPrefix("CLIENT_IP=") } == ip.map { "CLIENT_IP=\($0)" })
    }

    @Test func plaintextConnectionHasNoVersionOrCipher() {
        let extra = fields(["tls": "none"]).dropFirst(7)
        #expect(Array(extra) == ["TLS=none"])
    }

    @Test func explicitTLSVersionMetadataWinsOverTheSplit() {
        let extra = fields(["tls": "TLSv1.2/ECDHE-RSA-AES128-GCM-SHA256", "tls_version": "TLSv1.2,TLSv1.3"]).dropFirst(
            7
        )
        #expect(
            Array(extra) == [
                "CIPHER=ECDHE-RSA-AES128-GCM-SHA256", "TLS=TLSv1.2/ECDHE-RSA-AES128-GCM-SHA256",
                "TLS_VERSION=TLSv1.2,TLSv1.3",
            ]
        )
    }

    @Test(arguments: [
        ("bytes_in", "BYTES_IN"),
        ("shutdown-timeout", "SHUTDOWN_TIMEOUT"),
        ("a.b c", "A_B_C"),
        ("Mixed9Case", "MIXED9CASE"),
        ("_private", "PRIVATE"),
        ("__x", "X"),
        ("9lives", "META_9LIVES"),
        ("", "META_"),
        ("_", "META_"),
        ("clé", "CL_"),
        ("message", "META_MESSAGE"),
        ("priority", "META_PRIORITY"),
        ("code_line", "META_CODE_LINE"),
        ("syslog_identifier", "META_SYSLOG_IDENTIFIER"),
        ("client", "CLIENT_ADDR"),
        ("user", "USER_NAME"),
        ("conn", "CONNECTION_ID"),
        ("client_cert", "CLIENT_CERT_SUBJECT"),
        ("outcome", "OUTCOME"),
        ("tls", "TLS"),
    ])
    func fieldNamesFollowJournaldRules(key: String, expected: String) {
        let name = Journal.fieldName(forMetadataKey: key)
        #expect(name == expected)
        #expect(Self.isValidJournalFieldName(name))
    }

    @Test func longKeysAreTruncatedTo64Characters() {
        let name = Journal.fieldName(forMetadataKey: String(repeating: "k", count: 100))
        #expect(name == String(repeating: "K", count: 64))
    }

    @Test func metadataCannotOverrideMessageOrPriority() {
        let all = fields(["message": "spoofed", "priority": "0"], level: .warning, message: "real")
        #expect(all.filter { $0.hasPrefix("MESSAGE=") } == ["MESSAGE=real"])
        #expect(all.filter { $0.hasPrefix("PRIORITY=") } == ["PRIORITY=4"])
        #expect(all.contains("META_MESSAGE=spoofed"))
    }

    @Test func valuesKeepNewlinesAndStructuredMetadataIsRendered() {
        let all = fields(
            ["error": "line one\nline two", "list": ["a", "b"], "count": .stringConvertible(3)],
            message: "multi\nline"
        )
        #expect(all.first == "MESSAGE=multi\nline")
        #expect(all.contains("ERROR=line one\nline two"))
        #expect(all.contains("COUNT=3"))
        #expect(all.contains(#"LIST=["a", "b"]"#))
    }

    @Test func journalStreamMustMatchDeviceAndInode() {
        #expect(Journal.journalStream("8:12345", matchesDevice: 8, inode: 12345))
        #expect(!Journal.journalStream("8:12345", matchesDevice: 8, inode: 12346))
        #expect(!Journal.journalStream("9:12345", matchesDevice: 8, inode: 12345))
        #expect(!Journal.journalStream(nil, matchesDevice: 8, inode: 12345))
        for malformed in ["", ":", "8", "8:", ":12345", "8:12345:1", "x:1", "-8:12345", " 8:12345"] {
            #expect(!Journal.journalStream(malformed, matchesDevice: 8, inode: 12345), "\(malformed)")
        }
    }

    static func isValidJournalFieldName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, name.count <= 64 else { return false }
        guard first != "_", !("0"..."9").contains(first) else { return false }
        return name.unicodeScalars.allSatisfy { ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }
    }
}
