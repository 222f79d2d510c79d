/// The table of every option the proxy understands, in `--help` order.
///
/// Parsing, defaults (``SettingsDraft``), ``ProxyCommandLine/knownOptions`` and ``ProxyCommandLine/helpText``
/// are all derived from ``all``; `docs/configuration.md` documents the same rows.
enum OptionCatalog {
    static let all: [OptionSpec] = [
        OptionSpec(
            name: "bind_address",
            kind: .addressList,
            defaultValue: "0.0.0.0",
            mariaDBVariable: "bind_address",
            summary: "Addresses to listen on for TCP clients, comma-separated; * = all IPv4 and IPv6."
        ) { draft, value in
            if case .addresses(let list) = value { draft.settings.bindAddresses = list }
        },
        .integer(
            "port",
            0...65535,
            default: 3306,
            mariaDB: "port",
            "TCP port to listen on (0 = any free port)."
        ) { $0.settings.port = $1 },
        .text(
            "socket",
            placeholder: "PATH",
            mariaDB: "socket",
            "Unix socket to listen on for local clients; empty = no socket."
        ) { $0.settings.socketPath = $1 },
        .text(
            "backend_host",
            placeholder: "HOST",
            mariaDB: nil,
            "Host name or IP address of the plaintext MariaDB server."
        ) {
            $0.backendHost = $1
        },
        .integer(
            "backend_port",
            1...65535,
            default: 3306,
            mariaDB: nil,
            "TCP port of the MariaDB server, used with backend_host."
        ) { $0.backendPort = $1 },
        .text(
            "backend_socket",
            placeholder: "PATH",
            mariaDB: nil,
            "Unix socket of the MariaDB server (instead of backend_host)."
        ) { $0.backendSocket = $1 },
        OptionSpec(
            name: "backend_proxy_protocol",
            kind: .proxyProtocolVersion,
            defaultValue: "OFF",
            mariaDBVariable: nil,
            summary: "Send the client's address to the backend in a PROXY protocol header: OFF, v1 or v2."
        ) { draft, value in
            if case .proxyProtocol(let version) = value { draft.settings.backendProxyProtocol = version }
        },
        .boolean(
            "backend_connect_attributes",
            default: false,
            mariaDB: nil,
            "Add _proxy_tls_version, _proxy_tls_cipher, _proxy_client_subject and _proxy_client_address connect attributes to the relayed login."
        ) {
            $0.settings.backendConnectAttributes = $1
        },
        .boolean(
            "backend_ssl",
            default: false,
            mariaDB: nil,
            "Connect to the backend with TLS (its SSLRequest upgrade); a backend without TLS is then refused."
        ) {
            $0.settings.backendTLS.isEnabled = $1
        },
        .text(
            "backend_ssl_ca",
            placeholder: "PATH",
            mariaDB: nil,
            "PEM file of CA certificates trusted for the backend's certificate (as mariadb --ssl-ca)."
        ) {
            $0.settings.backendTLS.caPath = $1
        },
        .text(
            "backend_ssl_capath",
            placeholder: "DIR",
            mariaDB: nil,
            "Directory of hashed CA certificates trusted for the backend's certificate (as --ssl-capath)."
        ) {
            $0.settings.backendTLS.caDirectory = $1
        },
        .text(
            "backend_ssl_cert",
            placeholder: "PATH",
            mariaDB: nil,
            "PEM client certificate the proxy presents to the backend (as --ssl-cert)."
        ) {
            $0.settings.backendTLS.certificatePath = $1
        },
        .text(
            "backend_ssl_key",
            placeholder: "PATH",
            mariaDB: nil,
            "PEM private key for backend_ssl_cert (as --ssl-key)."
        ) {
            $0.settings.backendTLS.privateKeyPath = $1
        },
        OptionSpec(
            name: "backend_ssl_verify_server_cert",
            kind: .boolean,
            defaultValue: nil,
            mariaDBVariable: nil,
            summary: "Verify the backend's certificate chain and host name.",
            defaultDescription: "ON with backend_ssl_ca or backend_ssl_capath, else OFF"
        ) { draft, value in
            if case .boolean(let flag) = value { draft.settings.backendTLS.verifyServerCertificate = flag }
        },
        .boolean(
            "ssl",
            default: true,
            mariaDB: nil,
            "Offer TLS to clients; OFF (or skip-ssl) offers none."
        ) { $0.settings.tls.offered = $1 },
        .text(
            "ssl_cert",
            placeholder: "PATH",
            mariaDB: "ssl_cert",
            "PEM certificate (chain) presented to clients; without it one is generated in memory."
        ) {
            $0.settings.tls.certificatePath = $1
        },
        .text(
            "ssl_key",
            placeholder: "PATH",
            mariaDB: "ssl_key",
            "PEM private key for ssl_cert (if only one is set, one file holds both)."
        ) {
            $0.settings.tls.privateKeyPath = $1
        },
        .text(
            "ssl_ca",
            placeholder: "PATH",
            mariaDB: "ssl_ca",
            "PEM file of CA certificates trusted for client certificates."
        ) { $0.settings.tls.caPath = $1 },
        .text(
            "ssl_capath",
            placeholder: "DIR",
            mariaDB: "ssl_capath",
            "Directory of hashed CA certificates (c_rehash layout)."
        ) { $0.settings.tls.caDirectory = $1 },
        .text(
            "ssl_crl",
            placeholder: "PATH",
            mariaDB: "ssl_crl",
            "PEM file of certificate revocation lists."
        ) { $0.settings.tls.crlPath = $1 },
        .text(
            "ssl_crlpath",
            placeholder: "DIR",
            mariaDB: "ssl_crlpath",
            "Directory of hashed certificate revocation lists."
        ) { $0.settings.tls.crlDirectory = $1 },
        .text(
            "ssl_cipher",
            placeholder: "LIST",
            mariaDB: "ssl_cipher",
            "Permitted ciphers in OpenSSL cipher-list syntax; empty = library default."
        ) {
            $0.settings.tls.cipher = $1
        },
        OptionSpec(
            name: "tls_version",
            kind: .tlsVersionList,
            defaultValue: "TLSv1.2,TLSv1.3",
            mariaDBVariable: "tls_version",
            summary: "TLS versions to accept, comma-separated (TLSv1.0 ... TLSv1.3)."
        ) { draft, value in
            if case .tlsVersions(let versions) = value { draft.settings.tls.versions = versions }
        },
        .integer(
            "ssl_cert_expiry_warning",
            0...3650,
            default: 30,
            mariaDB: nil,
            "Days before expiry to warn about a loaded certificate (at most a quarter of its lifetime); 0 = only once expired."
        ) {
            $0.settings.certificateExpiryWarningDays = $1
        },
        .boolean(
            "require_secure_transport",
            default: false,
            mariaDB: "require_secure_transport",
            "Refuse TCP clients that do not switch to TLS (Unix socket clients are exempt)."
        ) {
            $0.settings.requireSecureTransport = $1
        },
        .text(
            "accounts",
            placeholder: "PATH",
            mariaDB: nil,
            "Per-account TLS requirements: CREATE USER / ALTER USER / GRANT ... REQUIRE statements."
        ) {
            $0.settings.accountsPath = $1
        },
        .boolean(
            "strict_accounts",
            default: false,
            mariaDB: nil,
            "Refuse users the accounts file does not mention (default: the backend alone decides)."
        ) {
            $0.settings.strictAccounts = $1
        },
        OptionSpec(
            name: "policy_mode",
            kind: .policyMode,
            defaultValue: "ENFORCE",
            mariaDBVariable: nil,
            summary: "ENFORCE refuses what the accounts file refuses; AUDIT logs and counts it and lets it through."
        ) { draft, value in
            if case .policyMode(let mode) = value { draft.settings.policyMode = mode }
        },
        .boolean(
            "skip_name_resolve",
            default: true,
            mariaDB: "skip_name_resolve",
            "Match account hosts by IP only (no DNS); OFF resolves client names as MariaDB does."
        ) {
            $0.settings.skipNameResolve = $1
        },
        .integer(
            "max_connections",
            1...100_000,
            default: 151,
            mariaDB: "max_connections",
            "Maximum number of simultaneous client connections."
        ) { $0.settings.maxConnections = $1 },
        .integer(
            "max_handshakes",
            1...100_000,
            default: 64,
            mariaDB: nil,
            "TLS handshakes computing at once (from the whole ClientHello on); beyond it handshakes wait their turn."
        ) {
            $0.settings.maxHandshakes = $1
        },
        .boolean(
            "kernel_tls",
            default: true,
            mariaDB: nil,
            "Hand TLS 1.3 sessions to the kernel's TLS (Linux tls module) after the handshake when it is offered; OFF keeps TLS in user space."
        ) {
            $0.settings.kernelTLS = $1
        },
        .integer(
            "connect_timeout",
            2...31_536_000,
            default: 10,
            mariaDB: "connect_timeout",
            "Seconds a client may take to complete the handshake and login."
        ) {
            $0.settings.connectTimeoutSeconds = $1
        },
        .integer(
            "shutdown_timeout",
            0...3600,
            default: 30,
            mariaDB: nil,
            "Seconds open sessions get to finish on shutdown before being closed."
        ) {
            $0.settings.shutdownTimeoutSeconds = $1
        },
        .text(
            "user",
            placeholder: "NAME",
            mariaDB: "user",
            "Switch to this user (and its groups) after binding, when started as root."
        ) {
            $0.settings.user = $1
        },
        OptionSpec(
            name: "metrics_address",
            kind: .hostAndPort,
            defaultValue: nil,
            mariaDBVariable: nil,
            summary: "Serve Prometheus metrics at http://HOST:PORT/metrics; empty = off."
        ) { draft, value in
            if case .text(let address) = value { draft.settings.metricsAddress = address }
        },
        OptionSpec(
            name: "log_level",
            kind: .logLevel,
            defaultValue: "info",
            mariaDBVariable: nil,
            summary: "Log verbosity: trace, debug, info, notice, warning, error or critical."
        ) { draft, value in
            if case .logLevel(let level) = value { draft.settings.logLevel = level }
        },
        OptionSpec(
            name: "log_connections",
            kind: .connectionLogging,
            defaultValue: "ALL",
            mariaDBVariable: nil,
            summary: "Per-connection log lines: ALL, REFUSED (refusals and failures only) or OFF."
        ) { draft, value in
            if case .connectionLogging(let mode) = value { draft.settings.logConnections = mode }
        },
    ]

    private static let byName: [String: OptionSpec] = Dictionary(uniqueKeysWithValues: all.map { ($0.name, $0) })

    /// Looks up a canonical (underscored) name.
    static func named(_ canonicalName: String) -> OptionSpec? {
        byName[canonicalName]
    }

    /// The known name closest to `canonicalName` if it is at most two edits away (ties: table order).
    static func closest(
        to canonicalName: String,
        among candidates: [OptionSpec] = all
    ) -> (spec: OptionSpec, distance: Int)? {
        var best: (spec: OptionSpec, distance: Int)?
        for spec in candidates {
            // More than two characters longer or shorter can never be within two edits.
            guard abs(spec.name.count - canonicalName.count) <= 2 else { continue }
            let distance = EditDistance.between(canonicalName, spec.name)
            if distance <= 2, distance < (best?.distance ?? .max) {
                best = (spec, distance)
            }
        }
        return best
    }
}
