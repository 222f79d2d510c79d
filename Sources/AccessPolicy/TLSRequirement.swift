/// An account's `REQUIRE` clause, as MariaDB stores it (`ssl_type` and its three strings).
public enum TLSRequirement: Sendable, Equatable, CustomStringConvertible {
    /// `REQUIRE NONE` (the default): no TLS needed.
    case none
    /// `REQUIRE SSL` (`SSL_TYPE_ANY`): any TLS connection.
    case ssl
    /// `REQUIRE X509`: TLS and a client certificate that verified.
    case x509
    /// `REQUIRE SUBJECT … ISSUER … CIPHER …` (`SSL_TYPE_SPECIFIED`).
    ///
    /// Empty strings are stored as `nil`, as MariaDB treats them once it (re)loads its privilege
    /// tables: an empty option checks nothing. So `REQUIRE SUBJECT ''` is
    /// `.specified(cipher: nil, issuer: nil, subject: nil)`, which still needs TLS and a
    /// verify result of OK.
    case specified(cipher: String?, issuer: String?, subject: String?)

    /// The clause as 10.11's `SHOW CREATE USER` prints it: `REQUIRE SSL`, `REQUIRE X509`,
    /// `REQUIRE ISSUER '…' SUBJECT '…' CIPHER '…'` (that order, quoted like `append_unescaped`).
    /// `SHOW CREATE USER` omits `REQUIRE NONE`; here it is spelled out. A SPECIFIED requirement
    /// with no option left prints as `REQUIRE SUBJECT ''`, which recreates it.
    public var description: String {
        switch self {
        case .none:
            return "REQUIRE NONE"
        case .ssl:
            return "REQUIRE SSL"
        case .x509:
            return "REQUIRE X509"
        case let .specified(cipher, issuer, subject):
            var text = "REQUIRE"
            if let issuer { text += " ISSUER " + SQLQuoting.singleQuoted(issuer) }
            if let subject { text += " SUBJECT " + SQLQuoting.singleQuoted(subject) }
            if let cipher { text += " CIPHER " + SQLQuoting.singleQuoted(cipher) }
            if cipher == nil, issuer == nil, subject == nil { text += " SUBJECT ''" }
            return text
        }
    }
}
