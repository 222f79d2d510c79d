/// The TLS facts of a connection that `acl_check_ssl` looks at, independent of OpenSSL.
public struct ConnectionSecurity: Sendable, Equatable {
    /// TLS was negotiated on this connection (over TCP or the unix socket).
    public var isTLS: Bool
    /// `SSL_get_cipher()`: the negotiated OpenSSL cipher name, e.g. `TLS_AES_256_GCM_SHA384`.
    public var cipher: String?
    /// `SSL_get_peer_certificate() != NULL`.
    public var peerCertificatePresented: Bool
    /// `SSL_get_verify_result() == X509_V_OK`. OpenSSL reports OK when no certificate was
    /// presented, so set this to `true` in that case (CIPHER-only requirements rely on it).
    public var verifyResultIsOK: Bool
    /// `X509_NAME_oneline(X509_get_subject_name(cert), 0, 0)`, e.g. `/C=FI/O=MariaDB/CN=client`.
    public var peerSubject: String?
    /// `X509_NAME_oneline(X509_get_issuer_name(cert), 0, 0)`.
    public var peerIssuer: String?

    public init(
        isTLS: Bool,
        cipher: String? = nil,
        peerCertificatePresented: Bool = false,
        verifyResultIsOK: Bool = true,
        peerSubject: String? = nil,
        peerIssuer: String? = nil
    ) {
        self.isTLS = isTLS
        self.cipher = cipher
        self.peerCertificatePresented = peerCertificatePresented
        self.verifyResultIsOK = verifyResultIsOK
        self.peerSubject = peerSubject
        self.peerIssuer = peerIssuer
    }

    /// A connection without TLS.
    public static let plaintext = ConnectionSecurity(isTLS: false)
}
