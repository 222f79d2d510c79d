/// Settings being assembled from assignments, before the checks that involve several options.
///
/// Starts from the defaults of ``OptionCatalog``; later assignments simply overwrite earlier ones,
/// which gives MariaDB's precedence (later lines win, the command line wins over files).
struct SettingsDraft {
    var settings = ProxySettings()
    // The backend is only known once host and socket are both final, so its parts are kept apart.
    var backendHost: String?
    var backendPort = 3306
    var backendSocket: String?
    /// Where each option (canonical name) was last set; defaults have no entry.
    private(set) var sources: [String: OptionSource] = [:]

    init() {
        for spec in OptionCatalog.all {
            guard let text = spec.defaultValue else { continue }
            // The catalog's own defaults are valid; a test pins that.
            spec.apply(&self, try! spec.kind.parse(text))
        }
    }

    mutating func set(_ spec: OptionSpec, to value: OptionValue, from source: OptionSource) {
        spec.apply(&self, value)
        sources[spec.name] = source
    }

    /// Applies the rules that span options and returns the settings plus warnings.
    func finish() throws(ConfigurationError) -> (settings: ProxySettings, warnings: [String]) {
        var result = settings
        var warnings: [String] = []

        switch (backendHost, backendSocket) {
        case (nil, nil):
            throw ConfigurationError("no backend configured: set backend_host (and backend_port) or backend_socket")
        case (.some, .some):
            throw ConfigurationError(
                "conflicting backend: backend_host (\(origin(of: "backend_host"))) and backend_socket "
                    + "(\(origin(of: "backend_socket"))) are both set; set only one of them"
            )
        case (let host?, nil):
            result.backend = .tcp(host: host, port: backendPort)
        case (nil, let path?):
            result.backend = .unixSocket(path: path)
            if let source = sources["backend_port"] {
                warnings.append("\(source): backend_port is ignored because backend_socket is set")
            }
        }

        let backendTLSOptions = [
            "backend_ssl_ca", "backend_ssl_capath", "backend_ssl_cert", "backend_ssl_key",
            "backend_ssl_verify_server_cert",
        ]
        if !result.backendTLS.isEnabled, let name = backendTLSOptions.first(where: { sources[$0] != nil }) {
            warnings.append("\(sources[name]!): \(name) is ignored because backend_ssl is OFF")
        }
        if result.backendTLS.isEnabled && !result.backendTLS.verifiesServerCertificate {
            warnings.append(
                "backend_ssl is ON without backend_ssl_verify_server_cert: the backend's certificate is not verified, so anyone on the path to it can read the sessions; set backend_ssl_ca"
            )
        }

        if result.requireSecureTransport && !result.tls.isEnabled {
            let source = sources["require_secure_transport"].map { "\($0): " } ?? ""
            warnings.append(
                "\(source)require_secure_transport is ON but ssl is OFF: TCP clients cannot connect"
            )
        }
        return (result, warnings)
    }

    private func origin(of name: String) -> String {
        sources[name]?.description ?? "default"
    }
}
