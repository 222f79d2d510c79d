/// A TLS protocol version as MariaDB's `tls_version` spells it.
public enum TLSProtocolVersion: String, Sendable, CaseIterable, Comparable {
    case tls1_0 = "TLSv1.0"
    case tls1_1 = "TLSv1.1"
    case tls1_2 = "TLSv1.2"
    case tls1_3 = "TLSv1.3"

    private var rank: Int { TLSProtocolVersion.allCases.firstIndex(of: self)! }
    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rank < rhs.rank }
}

/// A certificate file and its private key file, resolved as MariaDB resolves `ssl_cert`/`ssl_key`
/// (and its client `--ssl-cert`/`--ssl-key`): when only one is given, that file holds both
/// (vio/viosslfactories.c vio_set_cert_stuff). The one place this rule lives.
public struct CertificateKeyFiles: Sendable, Equatable {
    public let certificate: String
    public let key: String

    /// Nil when neither file is named.
    public init?(certificate: String?, key: String?) {
        guard let either = certificate ?? key else { return nil }
        self.certificate = certificate ?? either
        self.key = key ?? either
    }
}

/// The TLS the proxy offers its clients, named after MariaDB's `ssl_*` / `tls_version` server
/// variables. ``TLSServerContext`` is built from it; the option parser fills it in.
public struct TLSSettings: Sendable, Equatable {
    public var certificatePath: String?  // ssl_cert, as set
    public var privateKeyPath: String?  // ssl_key, as set
    public var caPath: String?  // ssl_ca
    public var caDirectory: String?  // ssl_capath
    public var crlPath: String?  // ssl_crl
    public var crlDirectory: String?  // ssl_crlpath
    public var cipher: String?  // ssl_cipher
    public var versions: Set<TLSProtocolVersion> = [.tls1_2, .tls1_3]  // tls_version
    public var offered = true  // ssl (skip_ssl turns TLS off)

    public init() {}

    /// TLS is offered unless `ssl` is OFF, as by MariaDB 11.4+.
    public var isEnabled: Bool { offered }
    /// The certificate and key files to load, or nil when a certificate is generated in memory.
    public var certificateAndKey: CertificateKeyFiles? {
        CertificateKeyFiles(certificate: certificatePath, key: privateKeyPath)
    }
    /// Neither ssl_cert nor ssl_key is set: a certificate is generated in memory (MariaDB 11.4+ does the same).
    public var generatesCertificate: Bool { certificateAndKey == nil }
}
