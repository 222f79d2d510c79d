import Testing

@testable import ProxyConfiguration

/// backend_ssl*: parsing, the verification default (ON with a CA, as documented), the one-file
/// certificate + key rule, and the warnings for options that do nothing or verify nothing.
@Suite("Options: TLS to the backend")
struct BackendTLSOptionTests {
    @Test func offByDefault() throws {
        let s = try settings("")
        #expect(s.backendTLS == ProxySettings().backendTLS)
        #expect(!s.backendTLS.isEnabled)
        #expect(!s.backendTLS.verifiesServerCertificate)
    }

    @Test func verificationDefaultsToOnWithACA() throws {
        #expect(try settings("backend_ssl = ON\nbackend_ssl_ca = /ca.pem").backendTLS.verifiesServerCertificate)
        #expect(try settings("backend_ssl = ON\nbackend_ssl_capath = /cas").backendTLS.verifiesServerCertificate)
        #expect(try !settings("backend_ssl = ON").backendTLS.verifiesServerCertificate)
        #expect(
            try !settings("backend_ssl = ON\nbackend_ssl_ca = /ca.pem\nbackend_ssl_verify_server_cert = OFF")
                .backendTLS.verifiesServerCertificate
        )
        #expect(
            try settings("backend_ssl = ON\nbackend_ssl_verify_server_cert = ON").backendTLS.verifiesServerCertificate
        )
        #expect(
            try settings("backend_ssl = ON\nbackend_ssl_ca = /ca.pem", ["--skip-backend-ssl-verify-server-cert"])
                .backendTLS.verifyServerCertificate == false
        )
    }

    @Test func allOptionsParse() throws {
        let s = try settings(
            """
            backend-ssl
            backend_ssl_ca = /ca.pem
            backend_ssl_capath = /cas
            backend_ssl_cert = /c.pem
            backend_ssl_key = /k.pem
            """
        ).backendTLS
        #expect(s.isEnabled)
        #expect(s.caPath == "/ca.pem")
        #expect(s.caDirectory == "/cas")
        #expect(s.certificatePath == "/c.pem")
        #expect(s.privateKeyPath == "/k.pem")
    }

    @Test func oneFileHoldsCertificateAndKey() throws {
        #expect(
            try settings("backend_ssl = ON\nbackend_ssl_cert = /both.pem").backendTLS.certificateAndKey?.key
                == "/both.pem"
        )
        #expect(
            try settings("backend_ssl = ON\nbackend_ssl_key = /both.pem").backendTLS.certificateAndKey?.certificate
                == "/both.pem"
        )
    }

    @Test func warnings() throws {
        let ignored = try run("[mariadb-tls-proxy]\nbackend_host = db\nbackend_ssl_ca = /ca.pem\n").warnings
        #expect(ignored.contains("/t/my.cnf:3: backend_ssl_ca is ignored because backend_ssl is OFF"))
        let unverified = try run("[mariadb-tls-proxy]\nbackend_host = db\nbackend_ssl = ON\n").warnings
        #expect(unverified.contains { $0.contains("without backend_ssl_verify_server_cert") })
        #expect(
            try run("[mariadb-tls-proxy]\nbackend_host = db\nbackend_ssl = ON\nbackend_ssl_ca = /ca.pem\n").warnings
                .isEmpty
        )
    }
}
