import ProxyTLS
import Testing

/// MariaDB's rule for `ssl_cert`/`ssl_key` (and the backend's pair), in ``CertificateKeyFiles``.
@Suite struct TLSSettingsTests {
    @Test func oneFileNamedServesAsBoth() {
        var settings = TLSSettings()
        settings.certificatePath = "/tls/both.pem"
        #expect(settings.certificateAndKey == CertificateKeyFiles(certificate: "/tls/both.pem", key: "/tls/both.pem"))
        #expect(settings.certificateAndKey?.key == "/tls/both.pem")
        settings.certificatePath = nil
        settings.privateKeyPath = "/tls/both.pem"
        #expect(settings.certificateAndKey?.certificate == "/tls/both.pem")
        #expect(!settings.generatesCertificate)
    }

    @Test func bothNamedAreKeptApart() {
        var settings = TLSSettings()
        settings.certificatePath = "/tls/cert.pem"
        settings.privateKeyPath = "/tls/key.pem"
        #expect(settings.certificateAndKey?.certificate == "/tls/cert.pem")
        #expect(settings.certificateAndKey?.key == "/tls/key.pem")
    }

    @Test func neitherNamedGeneratesACertificate() {
        let settings = TLSSettings()
        #expect(settings.certificateAndKey == nil)
        #expect(settings.generatesCertificate)
        #expect(settings.isEnabled)
        #expect(settings.versions == [.tls1_2, .tls1_3])
    }

    @Test func theBackendFollowsTheSameRule() {
        var backend = BackendTLSSettings()
        #expect(backend.certificateAndKey == nil)
        backend.privateKeyPath = "/tls/client.pem"
        #expect(
            backend.certificateAndKey == CertificateKeyFiles(certificate: "/tls/client.pem", key: "/tls/client.pem")
        )
    }

    @Test func theBackendCertificateIsVerifiedWhenACAIsConfigured() {
        var backend = BackendTLSSettings()
        #expect(!backend.verifiesServerCertificate)
        backend.caPath = "/tls/ca.pem"
        #expect(backend.verifiesServerCertificate)
        backend.verifyServerCertificate = false
        #expect(!backend.verifiesServerCertificate)
    }
}
