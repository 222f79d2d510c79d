/// What the TLS handshake established, captured once when it completes. Everything the access
/// policy and the connection log need, in the forms MariaDB itself uses.
public struct TLSFacts: Sendable, Equatable {
    /// `SSL_get_version`, e.g. `TLSv1.3` (MariaDB's `Ssl_version`).
    public var version: String
    /// `SSL_get_cipher`, e.g. `TLS_AES_256_GCM_SHA384` (MariaDB's `Ssl_cipher`, what REQUIRE CIPHER compares).
    public var cipher: String
    /// The client certificate's subject in `X509_NAME_oneline` form, or nil when none was presented.
    public var peerSubject: String?
    /// The client certificate's issuer in `X509_NAME_oneline` form, or nil when none was presented.
    public var peerIssuer: String?
    /// `SSL_get_verify_result`; 0 (`X509_V_OK`) also when no certificate was presented.
    public var verifyResult: Int
    /// Whether the session was resumed (ticket or cache).
    public var sessionReused: Bool
    /// SHA-256 of the DER of the certificate the proxy served on this connection (empty if unknown).
    public var serverCertificateSHA256: [UInt8]

    public init(
        version: String,
        cipher: String,
        peerSubject: String?,
        peerIssuer: String?,
        verifyResult: Int,
        sessionReused: Bool,
        serverCertificateSHA256: [UInt8] = []
    ) {
        self.serverCertificateSHA256 = serverCertificateSHA256
        self.version = version
        self.cipher = cipher
        self.peerSubject = peerSubject
        self.peerIssuer = peerIssuer
        self.verifyResult = verifyResult
        self.sessionReused = sessionReused
    }

    /// A client certificate was presented (and, since the handshake completed, verified).
    public var hasPeerCertificate: Bool { peerSubject != nil }
}
