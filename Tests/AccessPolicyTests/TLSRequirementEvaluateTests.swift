import Testing

@testable import AccessPolicy

/// acl_check_ssl() as in MariaDB's sql/sql_acl.cc, every requirement against every kind of
/// connection.
@Suite("acl_check_ssl: the evaluation matrix")
struct TLSRequirementEvaluateTests {
    static let cipher = "TLS_AES_256_GCM_SHA384"

    static let connections: [String: ConnectionSecurity] = [
        "plaintext": .plaintext,
        "tlsNoCert": ConnectionSecurity(
            isTLS: true,
            cipher: cipher,
            peerCertificatePresented: false,
            verifyResultIsOK: true
        ),
        "tlsCertOK": ConnectionSecurity(
            isTLS: true,
            cipher: cipher,
            peerCertificatePresented: true,
            verifyResultIsOK: true,
            peerSubject: "/CN=alice",
            peerIssuer: "/CN=ca"
        ),
        "otherCipher": ConnectionSecurity(
            isTLS: true,
            cipher: "ECDHE-RSA-AES256-GCM-SHA384",
            peerCertificatePresented: true,
            verifyResultIsOK: true,
            peerSubject: "/CN=alice",
            peerIssuer: "/CN=ca"
        ),
        "wrongSubject": ConnectionSecurity(
            isTLS: true,
            cipher: cipher,
            peerCertificatePresented: true,
            verifyResultIsOK: true,
            peerSubject: "/CN=mallory",
            peerIssuer: "/CN=ca"
        ),
        "wrongIssuer": ConnectionSecurity(
            isTLS: true,
            cipher: cipher,
            peerCertificatePresented: true,
            verifyResultIsOK: true,
            peerSubject: "/CN=alice",
            peerIssuer: "/CN=evil"
        ),
        "notVerified": ConnectionSecurity(
            isTLS: true,
            cipher: cipher,
            peerCertificatePresented: true,
            verifyResultIsOK: false,
            peerSubject: "/CN=alice",
            peerIssuer: "/CN=ca"
        ),
    ]

    static let requirements: [String: TLSRequirement] = [
        "NONE": .none,
        "SSL": .ssl,
        "X509": .x509,
        "CIPHER": .specified(cipher: cipher, issuer: nil, subject: nil),
        "SUBJECT": .specified(cipher: nil, issuer: nil, subject: "/CN=alice"),
        "ISSUER": .specified(cipher: nil, issuer: "/CN=ca", subject: nil),
        "ALL": .specified(cipher: cipher, issuer: "/CN=ca", subject: "/CN=alice"),
        "EMPTY": .specified(cipher: nil, issuer: nil, subject: nil),
    ]

    static let notTLS = "connection is not using TLS"
    static let allLabel = "REQUIRE ISSUER AND SUBJECT AND CIPHER"

    /// (requirement, connection, nil = allow / the deny reason)
    static let matrix: [(String, String, String?)] = [
        ("NONE", "plaintext", nil), ("NONE", "tlsNoCert", nil), ("NONE", "tlsCertOK", nil),
        ("NONE", "otherCipher", nil), ("NONE", "wrongSubject", nil), ("NONE", "wrongIssuer", nil),
        ("NONE", "notVerified", nil),

        ("SSL", "plaintext", "REQUIRE SSL: \(notTLS)"), ("SSL", "tlsNoCert", nil), ("SSL", "tlsCertOK", nil),
        ("SSL", "otherCipher", nil), ("SSL", "wrongSubject", nil), ("SSL", "wrongIssuer", nil),
        ("SSL", "notVerified", nil),

        ("X509", "plaintext", "REQUIRE X509: \(notTLS)"), ("X509", "tlsNoCert", "REQUIRE X509: no client certificate"),
        ("X509", "tlsCertOK", nil), ("X509", "otherCipher", nil), ("X509", "wrongSubject", nil),
        ("X509", "wrongIssuer", nil),
        ("X509", "notVerified", "REQUIRE X509: client certificate did not verify"),

        ("CIPHER", "plaintext", "REQUIRE CIPHER: \(notTLS)"), ("CIPHER", "tlsNoCert", nil),
        ("CIPHER", "tlsCertOK", nil),
        (
            "CIPHER", "otherCipher",
            "REQUIRE CIPHER: expected 'TLS_AES_256_GCM_SHA384', negotiated 'ECDHE-RSA-AES256-GCM-SHA384'"
        ),
        ("CIPHER", "wrongSubject", nil), ("CIPHER", "wrongIssuer", nil),
        ("CIPHER", "notVerified", "REQUIRE CIPHER: client certificate did not verify"),

        ("SUBJECT", "plaintext", "REQUIRE SUBJECT: \(notTLS)"),
        ("SUBJECT", "tlsNoCert", "REQUIRE SUBJECT: no client certificate"),
        ("SUBJECT", "tlsCertOK", nil), ("SUBJECT", "otherCipher", nil),
        ("SUBJECT", "wrongSubject", "REQUIRE SUBJECT: expected '/CN=alice', client presented '/CN=mallory'"),
        ("SUBJECT", "wrongIssuer", nil),
        ("SUBJECT", "notVerified", "REQUIRE SUBJECT: client certificate did not verify"),

        ("ISSUER", "plaintext", "REQUIRE ISSUER: \(notTLS)"),
        ("ISSUER", "tlsNoCert", "REQUIRE ISSUER: no client certificate"),
        ("ISSUER", "tlsCertOK", nil), ("ISSUER", "otherCipher", nil), ("ISSUER", "wrongSubject", nil),
        ("ISSUER", "wrongIssuer", "REQUIRE ISSUER: expected '/CN=ca', client certificate issued by '/CN=evil'"),
        ("ISSUER", "notVerified", "REQUIRE ISSUER: client certificate did not verify"),

        ("ALL", "plaintext", "\(allLabel): \(notTLS)"),
        ("ALL", "tlsNoCert", "REQUIRE ISSUER AND SUBJECT: no client certificate"),
        ("ALL", "tlsCertOK", nil),
        (
            "ALL", "otherCipher",
            "REQUIRE CIPHER: expected 'TLS_AES_256_GCM_SHA384', negotiated 'ECDHE-RSA-AES256-GCM-SHA384'"
        ),
        ("ALL", "wrongSubject", "REQUIRE SUBJECT: expected '/CN=alice', client presented '/CN=mallory'"),
        ("ALL", "wrongIssuer", "REQUIRE ISSUER: expected '/CN=ca', client certificate issued by '/CN=evil'"),
        ("ALL", "notVerified", "\(allLabel): client certificate did not verify"),

        ("EMPTY", "plaintext", "REQUIRE SUBJECT '': \(notTLS)"), ("EMPTY", "tlsNoCert", nil),
        ("EMPTY", "tlsCertOK", nil),
        ("EMPTY", "otherCipher", nil), ("EMPTY", "wrongSubject", nil), ("EMPTY", "wrongIssuer", nil),
        ("EMPTY", "notVerified", "REQUIRE SUBJECT '': client certificate did not verify"),
    ]

    @Test("every requirement × every connection", arguments: matrix.indices)
    func cell(_ index: Int) throws {
        let (requirementName, connectionName, reason) = Self.matrix[index]
        let requirement = try #require(Self.requirements[requirementName])
        let connection = try #require(Self.connections[connectionName])
        let expected: PolicyDecision = reason.map { .deny(reason: $0) } ?? .allow
        #expect(requirement.evaluate(connection) == expected, "\(requirementName) × \(connectionName)")
    }

    @Test("the matrix covers every pair")
    func complete() {
        #expect(Self.matrix.count == Self.requirements.count * Self.connections.count)
        #expect(Set(Self.matrix.map { "\($0.0)/\($0.1)" }).count == Self.matrix.count)
    }

    @Test("strcmp semantics: case, byte-exact Unicode, RDN order")
    func exactComparison() {
        let requirement = TLSRequirement.specified(cipher: nil, issuer: nil, subject: "/C=FI/CN=caf\u{E9}")
        func presenting(_ subject: String) -> ConnectionSecurity {
            ConnectionSecurity(
                isTLS: true,
                cipher: "X",
                peerCertificatePresented: true,
                verifyResultIsOK: true,
                peerSubject: subject,
                peerIssuer: "/CN=ca"
            )
        }
        #expect(requirement.evaluate(presenting("/C=FI/CN=caf\u{E9}")) == .allow)
        #expect(requirement.evaluate(presenting("/C=FI/CN=cafe\u{301}")) != .allow)
        #expect(requirement.evaluate(presenting("/c=FI/CN=caf\u{E9}")) != .allow)
        #expect(requirement.evaluate(presenting("/CN=caf\u{E9}/C=FI")) != .allow)
    }

    @Test("missing facts: no negotiated cipher, a certificate without names")
    func missingFacts() {
        let cipherOnly = TLSRequirement.specified(cipher: "X", issuer: nil, subject: nil)
        #expect(
            cipherOnly.evaluate(ConnectionSecurity(isTLS: true))
                == .deny(reason: "REQUIRE CIPHER: expected 'X', negotiated '(NONE)'")
        )
        let subject = TLSRequirement.specified(cipher: nil, issuer: nil, subject: "/CN=a")
        #expect(
            subject.evaluate(ConnectionSecurity(isTLS: true, peerCertificatePresented: true))
                == .deny(reason: "REQUIRE SUBJECT: expected '/CN=a', client certificate has no subject name")
        )
        let issuer = TLSRequirement.specified(cipher: nil, issuer: "/CN=ca", subject: nil)
        #expect(
            issuer.evaluate(ConnectionSecurity(isTLS: true, peerCertificatePresented: true))
                == .deny(reason: "REQUIRE ISSUER: expected '/CN=ca', client certificate has no issuer name")
        )
    }

    @Test("descriptions as SHOW CREATE USER prints the clause")
    func descriptions() {
        #expect(TLSRequirement.none.description == "REQUIRE NONE")
        #expect(TLSRequirement.ssl.description == "REQUIRE SSL")
        #expect(TLSRequirement.x509.description == "REQUIRE X509")
        #expect(
            Self.requirements["ALL"]!.description
                == "REQUIRE ISSUER '/CN=ca' SUBJECT '/CN=alice' CIPHER 'TLS_AES_256_GCM_SHA384'"
        )
        #expect(
            TLSRequirement.specified(cipher: nil, issuer: "O'Brien \\ CA", subject: nil).description
                == "REQUIRE ISSUER 'O''Brien \\\\ CA'"
        )
    }

    @Test("descriptions parse back to the same requirement", arguments: Array(requirements.keys).sorted())
    func roundTrip(_ name: String) throws {
        let requirement = try #require(Self.requirements[name])
        let policy = try compile("CREATE USER a \(requirement.description);")
        #expect(policy.requirement("a", "%") == requirement)
    }
}
