import Testing

@testable import ProxyConfiguration

@Suite("Options: defaults and validation")
struct OptionValidationTests {
    // MARK: Defaults

    @Test func defaultsWithOnlyABackend() throws {
        let s = try settings("")
        #expect(s.bindAddresses == ["0.0.0.0"])
        #expect(s.port == 3306)
        #expect(s.socketPath == nil)
        #expect(s.backend == .tcp(host: "db", port: 3306))
        #expect(s.tls == ProxySettings().tls)
        #expect(s.tls.versions == [.tls1_2, .tls1_3])
        #expect(s.tls.isEnabled)
        #expect(s.tls.generatesCertificate)
        #expect(s.requireSecureTransport == false)
        #expect(s.maxConnections == 151)
        #expect(s.connectTimeoutSeconds == 10)
        #expect(s.shutdownTimeoutSeconds == 30)
        #expect(s.logLevel == .info)
    }

    @Test func tableDefaultsMatchTheSettingsType() {
        // The catalog is the source of truth; ProxySettings' initial values must agree with it.
        var expected = SettingsDraft().settings
        expected.backend = ProxySettings().backend
        #expect(expected == ProxySettings())
        #expect(SettingsDraft().backendPort == 3306)
    }

    @Test func catalogDefaultsParse() throws {
        for spec in OptionCatalog.all {
            if let text = spec.defaultValue { _ = try spec.kind.parse(text) }
        }
    }

    @Test func knownOptions() {
        #expect(
            ProxyCommandLine.knownOptions == [
                "bind_address", "port", "socket", "backend_host", "backend_port", "backend_socket",
                "backend_proxy_protocol", "backend_connect_attributes", "backend_ssl", "backend_ssl_ca",
                "backend_ssl_capath", "backend_ssl_cert",
                "backend_ssl_key", "backend_ssl_verify_server_cert", "ssl", "ssl_cert", "ssl_key", "ssl_ca",
                "ssl_capath", "ssl_crl", "ssl_crlpath", "ssl_cipher",
                "tls_version", "ssl_cert_expiry_warning", "require_secure_transport", "accounts", "strict_accounts",
                "policy_mode", "skip_name_resolve",
                "max_connections", "max_handshakes", "kernel_tls", "connect_timeout",
                "shutdown_timeout", "user", "metrics_address", "log_level", "log_connections",
            ]
        )
    }

    @Test func logConnections() throws {
        #expect(try settings("").logConnections == .all)
        #expect(try settings("log_connections = refused").logConnections == .refused)
        #expect(try settings("log_connections = OFF").logConnections == .off)
        #expect(try settings("log_connections = Off\nlog_connections = ALL").logConnections == .all)
        #expect(try settings("log_connections = OFF", ["--log-connections=REFUSED"]).logConnections == .refused)
        for bad in ["NONE", "ON", "", "1", "errors"] {
            #expect(
                groupError("log_connections = \(bad)")
                    == "/t/my.cnf:3: option 'log_connections': expected ALL, REFUSED or OFF, got '\(bad)'"
            )
        }
        // Not a boolean: a bare name or skip- has no meaning.
        #expect(groupError("skip-log-connections") != nil)
    }

    @Test func policyMode() throws {
        #expect(try settings("").policyMode == .enforce)
        #expect(try settings("policy_mode = audit").policyMode == .audit)
        #expect(try settings("policy_mode = AUDIT", ["--policy-mode=ENFORCE"]).policyMode == .enforce)
        #expect(
            groupError("policy_mode = OFF") == "/t/my.cnf:3: option 'policy_mode': expected ENFORCE or AUDIT, got 'OFF'"
        )
    }

    @Test func metricsAddressIsCheckedWithTheRestOfTheConfiguration() throws {
        #expect(try settings("").metricsAddress == nil)
        #expect(try settings("metrics_address = 127.0.0.1:9405").metricsAddress == "127.0.0.1:9405")
        #expect(try settings("metrics_address = [::1]:9405").metricsAddress == "[::1]:9405")
        #expect(try settings("metrics_address = metrics.example:9405").metricsAddress == "metrics.example:9405")
        #expect(try settings("metrics_address = 127.0.0.1:9405", ["--metrics-address="]).metricsAddress == nil)
        for bad in ["notanaddress", "127.0.0.1:99999", "127.0.0.1:0", ":9405", "[::1]:9405x", "::1:9405", "127.0.0.1:"]
        {
            let message = groupError("metrics_address = \(bad)")
            #expect(
                message?.hasPrefix("/t/my.cnf:3: option 'metrics_address': expected HOST:PORT") == true,
                "\(bad): \(message ?? "accepted")"
            )
        }
    }

    @Test func accountOptions() throws {
        let defaults = try settings("")
        #expect(defaults.accountsPath == nil)
        #expect(defaults.strictAccounts == false)
        #expect(defaults.skipNameResolve == true)
        let set = try settings("accounts = /etc/p/accounts.sql\nstrict_accounts\nskip_name_resolve = OFF")
        #expect(set.accountsPath == "/etc/p/accounts.sql")
        #expect(set.strictAccounts)
        #expect(!set.skipNameResolve)
        #expect(try settings("skip-skip-name-resolve").skipNameResolve == false)
    }

    // MARK: bind_address, port, socket

    @Test func bindAddress() throws {
        #expect(try settings("bind_address = 127.0.0.1").bindAddresses == ["127.0.0.1"])
        #expect(
            try settings("bind_address = 127.0.0.1 , ::1,db.example").bindAddresses == [
                "127.0.0.1", "::1", "db.example",
            ]
        )
        #expect(try settings("bind_address = *").bindAddresses == ["::"])
        #expect(
            groupError("bind_address = a,,b")
                == "/t/my.cnf:3: option 'bind_address': expected a comma-separated list of non-empty addresses, got 'a,,b'"
        )
        #expect(
            groupError("bind_address =")
                == "/t/my.cnf:3: option 'bind_address': expected a comma-separated list of non-empty addresses, got ''"
        )
        #expect(
            groupError("bind_address = a,")
                == "/t/my.cnf:3: option 'bind_address': expected a comma-separated list of non-empty addresses, got 'a,'"
        )
    }

    @Test func socket() throws {
        #expect(try settings("socket = /run/proxy.sock").socketPath == "/run/proxy.sock")
        #expect(try settings("socket = /run/proxy.sock\nsocket =").socketPath == nil)
        #expect(try settings("socket = /a", ["--socket="]).socketPath == nil)
    }

    /// (option, smallest valid, largest valid).
    static let integerRanges: [(String, Int, Int)] = [
        ("port", 0, 65535),
        ("backend_port", 1, 65535),
        ("max_connections", 1, 100_000),
        ("connect_timeout", 2, 31_536_000),
        ("shutdown_timeout", 0, 3600),
    ]

    @Test(arguments: integerRanges)
    func integerBoundsAreAcceptedAndNeighboursRejected(option: String, low: Int, high: Int) throws {
        let expectation = "expected an integer between \(low) and \(high)"
        for valid in [low, high] {
            _ = try settings("\(option) = \(valid)")
        }
        for invalid in ["\(low - 1)", "\(high + 1)", "abc", "", "1.5", "10K", "99999999999999999999999"] {
            #expect(
                groupError("\(option) = \(invalid)")
                    == "/t/my.cnf:3: option '\(option)': \(expectation), got '\(invalid)'"
            )
        }
    }

    @Test func integerValuesLandInTheirFields() throws {
        let s = try settings(
            "port = 0\nmax_connections = 100000\nconnect_timeout = 2\nshutdown_timeout = 0\nbackend_port = 3307"
        )
        #expect(s.port == 0)
        #expect(s.maxConnections == 100_000)
        #expect(s.connectTimeoutSeconds == 2)
        #expect(s.shutdownTimeoutSeconds == 0)
        #expect(s.backend == .tcp(host: "db", port: 3307))
        #expect(try settings("port = +42").port == 42)
    }

    // MARK: Backend

    @Test func backendOverTCPAndUnixSocket() throws {
        let tcp = try run("[mariadb-tls-proxy]\nbackend_host = 10.1.2.3\nbackend_port = 3406").settings
        #expect(tcp.backend == .tcp(host: "10.1.2.3", port: 3406))
        let unix = try run("[mariadb-tls-proxy]\nbackend_socket = /run/mysqld/mysqld.sock").settings
        #expect(unix.backend == .unixSocket(path: "/run/mysqld/mysqld.sock"))
    }

    @Test func backendIsRequired() {
        #expect(
            fileError("[mariadb-tls-proxy]\nport = 1")
                == "no backend configured: set backend_host (and backend_port) or backend_socket"
        )
        #expect(
            fileError("[mariadb-tls-proxy]\nbackend_host =\nbackend_socket = ''")
                == "no backend configured: set backend_host (and backend_port) or backend_socket"
        )
    }

    @Test func hostAndSocketConflict() {
        #expect(
            fileError("[mariadb-tls-proxy]\nbackend_host = db\nbackend_socket = /s")
                == "conflicting backend: backend_host (/t/my.cnf:2) and backend_socket (/t/my.cnf:3) are both set; set only one of them"
        )
        #expect(
            fileError("[mariadb-tls-proxy]\nbackend_host = db", ["--backend-socket=/s"])
                == "conflicting backend: backend_host (/t/my.cnf:2) and backend_socket (command line) are both set; set only one of them"
        )
    }

    @Test func anEmptyValueOnTheCommandLineUnsetsTheFileBackend() throws {
        let s = try run("[mariadb-tls-proxy]\nbackend_host = db", ["--backend-host=", "--backend-socket=/s"]).settings
        #expect(s.backend == .unixSocket(path: "/s"))
    }

    @Test func backendProxyProtocol() throws {
        #expect(try settings("").backendProxyProtocol == .off)
        #expect(try settings("backend_proxy_protocol = v1").backendProxyProtocol == .v1)
        #expect(try settings("backend_proxy_protocol = V2").backendProxyProtocol == .v2)
        #expect(try settings("backend_proxy_protocol = v2\nbackend_proxy_protocol = off").backendProxyProtocol == .off)
        #expect(
            try settings("backend_proxy_protocol = v1", ["--backend-proxy-protocol=v2"]).backendProxyProtocol == .v2
        )
        for bad in ["v3", "ON", "", "2", "proxy"] {
            #expect(
                groupError("backend_proxy_protocol = \(bad)")
                    == "/t/my.cnf:3: option 'backend_proxy_protocol': expected OFF, v1 or v2, got '\(bad)'"
            )
        }
        // Not a boolean: a bare name or skip- has no meaning.
        #expect(groupError("skip-backend-proxy-protocol") != nil)
    }

    @Test func backendPortWithASocketIsAWarning() throws {
        let result = try run("[mariadb-tls-proxy]\nbackend_socket = /s\nbackend_port = 3307")
        #expect(result.warnings == ["/t/my.cnf:3: backend_port is ignored because backend_socket is set"])
    }

    // MARK: TLS

    @Test func sslOptionsMapToTLSSettings() throws {
        let s = try settings(
            """
            ssl_cert = /tls/cert.pem
            ssl_key = /tls/key.pem
            ssl_ca = /tls/ca.pem
            ssl_capath = /tls/ca.d
            ssl_crl = /tls/crl.pem
            ssl_crlpath = /tls/crl.d
            ssl_cipher = ECDHE-RSA-AES256-GCM-SHA384:!aNULL
            """
        )
        #expect(s.tls.certificatePath == "/tls/cert.pem")
        #expect(s.tls.privateKeyPath == "/tls/key.pem")
        #expect(s.tls.caPath == "/tls/ca.pem")
        #expect(s.tls.caDirectory == "/tls/ca.d")
        #expect(s.tls.crlPath == "/tls/crl.pem")
        #expect(s.tls.crlDirectory == "/tls/crl.d")
        #expect(s.tls.cipher == "ECDHE-RSA-AES256-GCM-SHA384:!aNULL")
        #expect(s.tls.isEnabled)
    }

    @Test func oneOfCertAndKeyServesAsBoth() throws {
        let certOnly = try settings("ssl_cert = /tls/both.pem")
        #expect(certOnly.tls.certificateAndKey?.certificate == "/tls/both.pem")
        #expect(certOnly.tls.certificateAndKey?.key == "/tls/both.pem")
        let keyOnly = try settings("ssl_key = /tls/both.pem")
        #expect(keyOnly.tls.certificateAndKey?.certificate == "/tls/both.pem")
        #expect(keyOnly.tls.certificateAndKey?.key == "/tls/both.pem")
    }

    @Test(arguments: ["ssl_cert", "ssl_key", "ssl_ca", "ssl_capath", "ssl_crl", "ssl_crlpath", "ssl_cipher"])
    func emptySSLValuesMeanNone(option: String) throws {
        #expect(try settings("\(option) = /x\n\(option) =").tls == ProxySettings().tls)
    }

    @Test func tlsVersion() throws {
        #expect(try settings("tls_version = TLSv1.3").tls.versions == [.tls1_3])
        #expect(
            try settings("tls_version = tlsv1.0, TLSV1.1 ,TLSv1.2,TLSv1.2").tls.versions == [.tls1_0, .tls1_1, .tls1_2]
        )
        #expect(try settings("tls_version = \"TLSv1.2, TLSv1.3\"").tls.versions == [.tls1_2, .tls1_3])
        #expect(
            groupError("tls_version = TLSv1.2,TLSv1.4")
                == "/t/my.cnf:3: option 'tls_version': unknown TLS version 'TLSv1.4' (expected a comma-separated list of TLSv1.0, TLSv1.1, TLSv1.2, TLSv1.3)"
        )
        #expect(
            groupError("tls_version = TLSv1.2,,TLSv1.3")
                == "/t/my.cnf:3: option 'tls_version': unknown TLS version '' (expected a comma-separated list of TLSv1.0, TLSv1.1, TLSv1.2, TLSv1.3)"
        )
        #expect(
            groupError("tls_version =")
                == "/t/my.cnf:3: option 'tls_version': expected a comma-separated list of TLSv1.0, TLSv1.1, TLSv1.2, TLSv1.3, got ''"
        )
    }

    // MARK: Booleans

    @Test(arguments: [
        ("ON", true), ("on", true), ("TRUE", true), ("true", true), ("1", true), ("YES", true), ("yes", true),
        ("OFF", false), ("off", false), ("FALSE", false), ("0", false), ("NO", false), ("No", false),
    ])
    func booleanWords(word: String, value: Bool) throws {
        #expect(try settings("ssl_cert = /c\nrequire_secure_transport = \(word)").requireSecureTransport == value)
    }

    @Test func badBoolean() {
        #expect(
            groupError("require_secure_transport = maybe")
                == "/t/my.cnf:3: option 'require_secure_transport': expected a boolean (ON/OFF, TRUE/FALSE, YES/NO, 1/0), got 'maybe'"
        )
        #expect(
            groupError("require_secure_transport =")
                == "/t/my.cnf:3: option 'require_secure_transport': expected a boolean (ON/OFF, TRUE/FALSE, YES/NO, 1/0), got ''"
        )
    }

    @Test func requireSecureTransportWithoutTLSIsAWarning() throws {
        let result = try run("[mariadb-tls-proxy]\nbackend_host = db\nrequire_secure_transport = ON\nskip_ssl")
        #expect(
            result.warnings == [
                "/t/my.cnf:3: require_secure_transport is ON but ssl is OFF: TCP clients cannot connect"
            ]
        )
        #expect(
            try run("[mariadb-tls-proxy]\nbackend_host = db\nrequire_secure_transport\nssl_key = /k").warnings.isEmpty
        )
        // Without ssl_cert/ssl_key TLS is still offered, with a generated certificate.
        #expect(try run("[mariadb-tls-proxy]\nbackend_host = db\nrequire_secure_transport").warnings.isEmpty)
    }

    // MARK: log_level

    @Test(arguments: LogLevelSetting.allCases)
    func logLevels(level: LogLevelSetting) throws {
        #expect(try settings("log_level = \(level.rawValue)").logLevel == level)
        #expect(try settings("log_level = \(level.rawValue.uppercased())").logLevel == level)
    }

    @Test func badLogLevel() {
        #expect(
            groupError("log_level = loud")
                == "/t/my.cnf:3: option 'log_level': expected one of trace, debug, info, notice, warning, error, critical, got 'loud'"
        )
    }
}
