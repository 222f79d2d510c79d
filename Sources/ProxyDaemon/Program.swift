/// The program's name (log label, stderr prefix) and version (`--version`, the man page, metrics).
package enum Program {
    package static let name = "mariadb-tls-proxy"
    package static let version = "0.1.0"

    /// What `--version` prints: `mariadb-tls-proxy 0.1.0 (OpenSSL 3.0.13 30 Jan 2024)`.
    package static func versionLine(openSSL: String) -> String {
        "\(name) \(version) (\(openSSL))"
    }
}
