import COpenSSL

/// The OpenSSL library the process runs with (not the headers it was built against).
public enum OpenSSLVersion {
    public static var text: String {
        String(cString: OpenSSL_version(OPENSSL_VERSION))
    }
}
