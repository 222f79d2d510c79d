import COpenSSL
import FoundationEssentials

/// X.509 names in the exact form MariaDB compares `REQUIRE SUBJECT` / `ISSUER` against.
enum X509Name {
    /// `X509_NAME_oneline(name, 0, 0)`: `/C=FI/ST=Helsinki/O=MariaDB/CN=client`, with OpenSSL's
    /// `\xNN` escaping of non-ASCII bytes.
    static func oneLine(_ name: OpaquePointer?) -> String {
        guard let name, let raw = X509_NAME_oneline(name, nil, 0) else { return "" }
        defer { copenssl_free(raw) }
        return String(cString: raw)
    }
}

/// ASN.1 times as `Date`.
enum X509Time {
    static func date(_ time: UnsafePointer<ASN1_TIME>?) -> Date? {
        guard let time else { return nil }
        var parts = tm()
        guard ASN1_TIME_to_tm(time, &parts) == 1 else { return nil }
        return Date(timeIntervalSince1970: TimeInterval(timegm(&parts)))
    }
}
