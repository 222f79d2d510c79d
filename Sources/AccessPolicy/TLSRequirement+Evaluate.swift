extension TLSRequirement {
    /// MariaDB's `acl_check_ssl()`: does this connection satisfy the requirement?
    ///
    /// Checks, in the server's order: NONE passes; SSL needs TLS; X509 needs TLS, a verify result
    /// of OK and a peer certificate; SPECIFIED needs TLS and a verify result of OK, then the exact
    /// cipher (no certificate needed for CIPHER alone), then — only if an issuer or subject is
    /// set — a certificate whose issuer, then subject, equal the one-line forms byte for byte.
    public func evaluate(_ security: ConnectionSecurity) -> PolicyDecision {
        switch self {
        case .none:
            return .allow
        case .ssl:
            return security.isTLS ? .allow : .deny(reason: "REQUIRE SSL: connection is not using TLS")
        case .x509:
            if !security.isTLS { return .deny(reason: "REQUIRE X509: connection is not using TLS") }
            if !security.peerCertificatePresented {
                return .deny(reason: "REQUIRE X509: no client certificate")
            }
            if !security.verifyResultIsOK {
                return .deny(reason: "REQUIRE X509: client certificate did not verify")
            }
            return .allow
        case let .specified(cipher, issuer, subject):
            return Self.evaluateSpecified(cipher: cipher, issuer: issuer, subject: subject, security)
        }
    }

    private static func evaluateSpecified(
        cipher: String?,
        issuer: String?,
        subject: String?,
        _ security: ConnectionSecurity
    ) -> PolicyDecision {
        let label = specifiedLabel(cipher: cipher, issuer: issuer, subject: subject)
        if !security.isTLS { return .deny(reason: "\(label): connection is not using TLS") }
        if !security.verifyResultIsOK {
            return .deny(reason: "\(label): client certificate did not verify")
        }
        if let cipher {
            // SSL_get_cipher() answers "(NONE)" when nothing was negotiated.
            let negotiated = security.cipher ?? "(NONE)"
            if !bytesEqual(cipher, negotiated) {
                return .deny(reason: "REQUIRE CIPHER: expected \(quoted(cipher)), negotiated \(quoted(negotiated))")
            }
        }
        if issuer == nil && subject == nil { return .allow }
        if !security.peerCertificatePresented {
            let certLabel = specifiedLabel(cipher: nil, issuer: issuer, subject: subject)
            return .deny(reason: "\(certLabel): no client certificate")
        }
        if let issuer {
            guard let presented = security.peerIssuer else {
                return .deny(
                    reason: "REQUIRE ISSUER: expected \(quoted(issuer)), client certificate has no issuer name"
                )
            }
            if !bytesEqual(issuer, presented) {
                return .deny(
                    reason:
                        "REQUIRE ISSUER: expected \(quoted(issuer)), client certificate issued by \(quoted(presented))"
                )
            }
        }
        if let subject {
            guard let presented = security.peerSubject else {
                return .deny(
                    reason: "REQUIRE SUBJECT: expected \(quoted(subject)), client certificate has no subject name"
                )
            }
            if !bytesEqual(subject, presented) {
                return .deny(
                    reason: "REQUIRE SUBJECT: expected \(quoted(subject)), client presented \(quoted(presented))"
                )
            }
        }
        return .allow
    }

    /// `REQUIRE ISSUER AND SUBJECT AND CIPHER` — the options this requirement actually checks.
    private static func specifiedLabel(cipher: String?, issuer: String?, subject: String?) -> String {
        var names: [String] = []
        if issuer != nil { names.append("ISSUER") }
        if subject != nil { names.append("SUBJECT") }
        if cipher != nil { names.append("CIPHER") }
        if names.isEmpty { return "REQUIRE SUBJECT ''" }
        return "REQUIRE " + names.joined(separator: " AND ")
    }

    /// strcmp(): byte equality, not Swift's canonical-equivalence `==`.
    private static func bytesEqual(_ a: String, _ b: String) -> Bool {
        a.utf8.elementsEqual(b.utf8)
    }

    private static func quoted(_ value: String) -> String { "'\(value)'" }
}
