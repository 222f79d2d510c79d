import COpenSSL
import FoundationEssentials

/// One loaded certificate: its subject, serial and validity period, for the expiry checks, the
/// expiry metric, and the one way a certificate is shown in log lines and status text.
public struct CertificateValidity: Sendable, Equatable {
    /// What the certificate is used for.
    public enum Role: String, Sendable {
        /// The certificate the proxy presents (`ssl_cert`).
        case server
        /// A CA certificate client certificates are checked against (`ssl_ca`).
        case ca
    }

    public let role: Role
    /// The subject in OpenSSL's one-line form (`/CN=…`).
    public let subject: String
    /// The serial number in upper-case hex, to tell apart certificates with one subject.
    public let serial: String
    public let notBefore: Date?
    public let notAfter: Date?

    public init(role: Role, subject: String, serial: String, notBefore: Date?, notAfter: Date?) {
        self.role = role
        self.subject = subject
        self.serial = serial
        self.notBefore = notBefore
        self.notAfter = notAfter
    }

    /// The certificate as log metadata, in this order: `certificate` (subject), `serial` and
    /// `expires` (notAfter, ISO 8601 in UTC).
    public var logFields: [(key: String, value: String)] {
        var fields = [(key: "certificate", value: subject), (key: "serial", value: serial)]
        if let expires { fields.append((key: "expires", value: expires)) }
        return fields
    }

    /// One line for status text: `/CN=db (serial 0A) expires 2027-01-31T12:00:00Z`.
    public var summary: String {
        "\(subject) (serial \(serial))" + (expires.map { " expires \($0)" } ?? "")
    }

    private var expires: String? { notAfter?.formatted(Date.ISO8601FormatStyle()) }

    init(role: Role, certificate: OpaquePointer) {
        self.init(
            role: role,
            subject: X509Name.oneLine(X509_get_subject_name(certificate)),
            serial: Self.serialHex(certificate),
            notBefore: X509Time.date(X509_get0_notBefore(certificate)),
            notAfter: X509Time.date(X509_get0_notAfter(certificate))
        )
    }

    /// The server certificate, then the CA certificates loaded from `ssl_ca` (an `ssl_capath`
    /// directory, and the system store used without either, are read lazily and not listed).
    static func loaded(in context: OpaquePointer, listCAs: Bool) -> [CertificateValidity] {
        var certificates: [CertificateValidity] = []
        if let leaf = SSL_CTX_get0_certificate(context) {
            certificates.append(CertificateValidity(role: .server, certificate: leaf))
        }
        guard listCAs, let store = SSL_CTX_get_cert_store(context) else { return certificates }
        for index in 0..<copenssl_X509_STORE_object_count(store) {
            if let ca = copenssl_X509_STORE_certificate(store, index) {
                certificates.append(CertificateValidity(role: .ca, certificate: ca))
            }
        }
        return certificates
    }

    private static func serialHex(_ certificate: OpaquePointer) -> String {
        guard let number = ASN1_INTEGER_to_BN(X509_get0_serialNumber(certificate), nil) else { return "" }
        defer { BN_free(number) }
        guard let hex = BN_bn2hex(number) else { return "" }
        defer { copenssl_free(hex) }
        return String(cString: hex)
    }
}
