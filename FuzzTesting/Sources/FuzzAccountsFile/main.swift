// FuzzAccountsFile: arbitrary bytes as the accounts file (CREATE USER / ALTER USER / GRANT … REQUIRE).
//
// The bytes are taken as PolicyFileReader takes a file (a UTF-8 BOM dropped; not UTF-8 = refused
// before parsing, so such inputs stop here) and parsed with AccessPolicy.parse. When that succeeds,
// a few users (the file's own and fixed ones) are matched from several client identities, with and
// without skip_name_resolve, and each matched row's requirement is evaluated against plaintext and
// TLS connections. A thrown PolicyParseError is an expected outcome.
//
// Oracles (besides "no trap"): a matched row names the user (or is anonymous); each requirement's
// SQL text (TLSRequirement.description, documented to recreate it) parses back to the same requirement.
import AccessPolicy
import CLibFuzzer
import FuzzSupport

#if canImport(Glibc)
import Glibc
#endif

let identities: [ClientIdentity] = [
    .unixSocket(),
    .tcp(ip: "127.0.0.1", resolvedHost: "localhost"),
    .tcp(ip: "10.0.0.7", resolvedHost: nil),
    .tcp(ip: "::ffff:192.168.1.77", resolvedHost: "db1.example.com"),
    .tcp(ip: "FE80::1", resolvedHost: nil),
]

let securities: [ConnectionSecurity] = [
    .plaintext,
    ConnectionSecurity(isTLS: true, cipher: "TLS_AES_256_GCM_SHA384"),
    ConnectionSecurity(
        isTLS: true,
        cipher: "ECDHE-RSA-AES256-GCM-SHA384",
        peerCertificatePresented: true,
        peerSubject: "/C=FI/O=Example/CN=client",
        peerIssuer: "/C=FI/O=Example/CN=Example CA"
    ),
    ConnectionSecurity(
        isTLS: true,
        cipher: "TLS_AES_128_GCM_SHA256",
        peerCertificatePresented: true,
        verifyResultIsOK: false,
        peerSubject: "/CN=client",
        peerIssuer: "/CN=Example CA"
    ),
]

/// The bytes MariaDB compares: up to the first NUL.
func cString(_ text: String) -> [UInt8] {
    Array(text.utf8.prefix { $0 != 0 })
}

func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var bytes = fuzzInput(data, size)[...]
    if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes = bytes.dropFirst(3) }
    guard let text = String(validating: bytes, as: UTF8.self) else { return 0 }
    let policy: AccessPolicy
    do {
        policy = try AccessPolicy.parse(text, fileName: "fuzz.sql")
    } catch {
        fuzzTrace("refused: \(error)")
        return 0
    }
    fuzzTrace("\(policy.rows.count) rows, \(policy.warnings.count) warnings")

    _ = policy.warnings(skipNameResolve: true)
    var users = ["app", "root", "", "ed", "nobody"]
    for row in policy.rows.prefix(6) where !users.contains(row.account.user) { users.append(row.account.user) }

    for user in users {
        for identity in identities {
            for skipNameResolve in [true, false] {
                guard
                    case .matched(let row) = policy.match(
                        user: user,
                        client: identity,
                        skipNameResolve: skipNameResolve
                    )
                else { continue }
                let rowUser = Array(row.account.user.utf8)
                fuzzCheck(
                    rowUser.isEmpty || rowUser == cString(user),
                    "user '\(user)' matched the row of \(row.account)"
                )
                for security in securities { _ = row.requirement.evaluate(security) }
            }
        }
    }

    for row in policy.rows.prefix(8) {
        let statement = "CREATE USER 'roundtrip'@'%' \(row.requirement);"
        do {
            let again = try AccessPolicy.parse(statement, fileName: "roundtrip.sql")
            fuzzCheck(
                again.rows.first?.requirement == row.requirement,
                "\(statement) reads back as \(again.rows.first.map { "\($0.requirement)" } ?? "nothing"), not \(row.requirement)"
            )
        } catch {
            fuzzCheck(false, "\(statement) does not parse: \(error)")
        }
    }
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    fuzzOne(data, size)
}

var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzOne(data, size) })
