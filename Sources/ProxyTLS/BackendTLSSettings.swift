/// `backend_ssl*`: TLS from the proxy to the backend, named after the MariaDB client's `--ssl*`
/// options. ``TLSClientContext`` is built from it; the option parser fills it in.
public struct BackendTLSSettings: Sendable, Equatable {
    public var isEnabled = false  // backend_ssl
    public var caPath: String?  // backend_ssl_ca
    public var caDirectory: String?  // backend_ssl_capath
    public var certificatePath: String?  // backend_ssl_cert, as set
    public var privateKeyPath: String?  // backend_ssl_key, as set
    /// backend_ssl_verify_server_cert as set; nil = not set (see `verifiesServerCertificate`).
    public var verifyServerCertificate: Bool?

    public init() {}

    /// The client certificate and key the proxy presents, or nil for none.
    public var certificateAndKey: CertificateKeyFiles? {
        CertificateKeyFiles(certificate: certificatePath, key: privateKeyPath)
    }

    /// Chain and host name are verified when backend_ssl_verify_server_cert is ON, and by default
    /// when a CA (backend_ssl_ca or backend_ssl_capath) is configured; docs/configuration.md.
    public var verifiesServerCertificate: Bool {
        verifyServerCertificate ?? (caPath != nil || caDirectory != nil)
    }
}
