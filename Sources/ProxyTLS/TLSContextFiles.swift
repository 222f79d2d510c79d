import COpenSSL
import Glibc

/// Loading the PEM files of an `SSL_CTX`, shared by ``TLSServerContext`` (`ssl_*`) and
/// ``TLSClientContext`` (`backend_ssl_*`): each failure names the option and the file, with
/// MariaDB's reason (`ssl_error_string[]`) for `FLUSH SSL`-style messages.
struct TLSContextFiles {
    /// The options the files came from, for the messages: e.g. `ssl_cert`, `ssl_key`, `ssl_ca`, `ssl_capath`.
    let certificateOption: String
    let keyOption: String
    let caOption: String
    let caDirectoryOption: String

    static let server = TLSContextFiles(
        certificateOption: "ssl_cert",
        keyOption: "ssl_key",
        caOption: "ssl_ca",
        caDirectoryOption: "ssl_capath"
    )
    static let backend = TLSContextFiles(
        certificateOption: "backend_ssl_cert",
        keyOption: "backend_ssl_key",
        caOption: "backend_ssl_ca",
        caDirectoryOption: "backend_ssl_capath"
    )

    /// The certificate chain and its key, checked to match (vio/viosslfactories.c vio_set_cert_stuff).
    func loadCertificateAndKey(_ files: CertificateKeyFiles, into context: OpaquePointer) throws(TLSConfigurationError)
    {
        let (certificatePath, keyPath) = (files.certificate, files.key)
        try Self.checkReadable(certificatePath, option: certificateOption, reason: "Unable to get certificate")
        OpenSSLErrorQueue.clear()
        if SSL_CTX_use_certificate_chain_file(context, certificatePath) != 1 {
            throw TLSConfigurationError(
                option: certificateOption,
                detail:
                    "cannot load a PEM certificate from '\(certificatePath)': \(OpenSSLErrorQueue.drainedDescription(fallback: "not a certificate"))",
                mariaDBReason: "Unable to get certificate"
            )
        }
        try Self.checkReadable(keyPath, option: keyOption, reason: "Unable to get private key")
        let mismatch = TLSConfigurationError(
            option: keyOption,
            detail: "private key '\(keyPath)' does not match the certificate '\(certificatePath)'",
            mariaDBReason: "Private key does not match the certificate public key"
        )
        if SSL_CTX_use_PrivateKey_file(context, keyPath, SSL_FILETYPE_PEM) != 1 {
            let reason = OpenSSLErrorQueue.drainedDescription(fallback: "not a private key")
            if reason.contains("values mismatch") { throw mismatch }
            throw TLSConfigurationError(
                option: keyOption,
                detail: "cannot load a PEM private key from '\(keyPath)': \(reason)",
                mariaDBReason: "Unable to get private key"
            )
        }
        if SSL_CTX_check_private_key(context) != 1 {
            OpenSSLErrorQueue.clear()
            throw mismatch
        }
    }

    /// The CA file and directory certificates are verified against, or without either the
    /// system's default paths (as MariaDB's new_VioSSLFd).
    func loadVerifyLocations(
        caPath: String?,
        caDirectory: String?,
        into context: OpaquePointer
    ) throws(TLSConfigurationError) {
        OpenSSLErrorQueue.clear()
        defer { OpenSSLErrorQueue.clear() }
        guard caPath != nil || caDirectory != nil else {
            if SSL_CTX_set_default_verify_paths(context) != 1 {
                throw TLSConfigurationError(
                    option: caOption,
                    detail: "cannot load the system's default CA paths",
                    mariaDBReason: "SSL_CTX_set_default_verify_paths failed"
                )
            }
            return
        }
        if let caPath {
            try Self.checkReadable(caPath, option: caOption, reason: "SSL_CTX_set_default_verify_paths failed")
        }
        if let caDirectory { try Self.checkDirectory(caDirectory, option: caDirectoryOption) }
        if SSL_CTX_load_verify_locations(context, caPath, caDirectory) != 1 {
            throw TLSConfigurationError(
                option: caPath != nil ? caOption : caDirectoryOption,
                detail:
                    "cannot load CA certificates from '\(caPath ?? caDirectory ?? "")': \(OpenSSLErrorQueue.drainedDescription(fallback: "no certificates found"))",
                mariaDBReason: "SSL_CTX_set_default_verify_paths failed"
            )
        }
    }

    static func checkReadable(_ path: String, option: String, reason: String) throws(TLSConfigurationError) {
        if access(path, R_OK) != 0 {
            let why = String(cString: strerror(errno))
            throw TLSConfigurationError(option: option, detail: "cannot read '\(path)': \(why)", mariaDBReason: reason)
        }
        var status = stat()
        if stat(path, &status) == 0, (status.st_mode & S_IFMT) == S_IFDIR {
            throw TLSConfigurationError(
                option: option,
                detail: "'\(path)' is a directory, expected a PEM file",
                mariaDBReason: reason
            )
        }
    }

    static func checkDirectory(_ path: String, option: String) throws(TLSConfigurationError) {
        var status = stat()
        if stat(path, &status) != 0 {
            let why = String(cString: strerror(errno))
            throw TLSConfigurationError(
                option: option,
                detail: "cannot read directory '\(path)': \(why)",
                mariaDBReason: "SSL_CTX_set_default_verify_paths failed"
            )
        }
        if (status.st_mode & S_IFMT) != S_IFDIR {
            throw TLSConfigurationError(
                option: option,
                detail: "'\(path)' is not a directory",
                mariaDBReason: "SSL_CTX_set_default_verify_paths failed"
            )
        }
    }
}
