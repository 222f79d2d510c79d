/// One authentication method of an account as the accounts file states it (`SHOW CREATE USER`
/// output), reduced to what MariaDB keeps in memory for it: the plugin and its *preprocessed*
/// stored credential (`ACL_USER::AUTH::salt`, made by the plugin's `preprocess_hash`, see
/// sql/sql_acl.cc set_user_salt()).
///
/// The salt is what 11.4+ servers hash into the zero-configuration TLS proof of the login OK
/// (sql/sql_acl.cc make_ssl_info()). It is not a password, but it is password-equivalent for an
/// offline guess, so `description` never shows it.
public struct StoredCredential: Sendable, Equatable, CustomStringConvertible {
    /// The plugin name, lower-cased (`mysql_native_password`, `ed25519`, `parsec`, …).
    public var plugin: String
    /// The preprocessed credential:
    /// - `mysql_native_password`: the 20 bytes of `SHA1(SHA1(password))` (the `*` + 40 hex);
    /// - `ed25519`: the 32-byte public key (the 43 base64 characters);
    /// - `parsec`: `'P'`, the iteration factor 0…3, the 18-byte salt, the 32-byte key (52 bytes);
    /// - other plugins: the authentication string's bytes as written;
    /// - empty: a passwordless method (no proof exists for it).
    ///
    /// nil when the file gave a plaintext password (`IDENTIFIED BY 'x'`, `USING PASSWORD('x')`):
    /// the proxy keeps no password, so this credential is unknown here; also for a native hash
    /// MariaDB reads as "invalid" (no password matches it).
    public var salt: [UInt8]?

    public init(plugin: String, salt: [UInt8]?) {
        self.plugin = plugin
        self.salt = salt
    }

    public static let nativePassword = "mysql_native_password"
    public static let ed25519 = "ed25519"
    public static let parsec = "parsec"

    /// Whether the client side of this plugin can recompute the credential from the password
    /// (Connector/C's `hash_password_bin`), i.e. whether a zero-configuration proof can be checked.
    public var clientCanHash: Bool {
        plugin == Self.nativePassword || plugin == Self.ed25519 || plugin == Self.parsec
    }

    public var description: String {
        switch salt {
        case nil: return "\(plugin) (credential unknown)"
        case let salt? where salt.isEmpty: return "\(plugin) (no credential)"
        default: return "\(plugin) (credential not shown)"
        }
    }
}
