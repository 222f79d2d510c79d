import AccessPolicy
import MariaDBWire
import NIOCore
import ProxyTLS

/// The zero-configuration TLS proof of MariaDB 11.4+ (sql/sql_acl.cc make_ssl_info()), which
/// Connector/C 3.4 checks when it cannot verify a self-signed server certificate
/// (libmariadb/ma_tls.c, plugins/auth/my_auth.c): the login OK's info is
/// `0x01 ‖ HEX(SHA-256(stored credential ‖ greeting scramble ‖ SHA-256(server certificate DER)))`.
///
/// The backend computes it, if at all, for its own certificate, which the client never sees; the
/// proxy recomputes it for its own certificate from the credential in the accounts file.
/// docs/operations.md, "Zero-configuration TLS", says what clients see in each case.
struct ZeroConfigurationProof {
    /// The first 20 bytes of the greeting's scramble: the client stores them, the backend's
    /// `thd->scramble` is them, and the proxy passes the greeting's scramble through unchanged.
    var greetingScramble: [UInt8] = []
    /// The plugin of the HandshakeResponse (nil without CLIENT_PLUGIN_AUTH: native).
    var clientPlugin: String?
    /// The plugin of the backend's last AuthSwitchRequest, if any.
    var lastSwitchPlugin: String?
    /// The last mysql_native_password exchange: the scramble the client hashed and its answer
    /// (nil until the client answered a switch), checked against the stored hash before a proof.
    private(set) var nativeExchange: (scramble: [UInt8], response: [UInt8]?)?

    /// Notes the HandshakeResponse's auth response (hashed with the greeting's scramble).
    mutating func noteLoginResponse(_ authResponse: [UInt8]) {
        nativeExchange =
            (clientPlugin ?? StoredCredential.nativePassword).lowercased() == StoredCredential.nativePassword
            ? (greetingScramble, authResponse) : nil
    }

    /// Notes an authentication packet of the backend.
    mutating func observe(_ packet: AuthServerPacket?) {
        switch packet {
        case .authSwitch(let plugin, let data):
            lastSwitchPlugin = plugin.lowercased()
            nativeExchange = lastSwitchPlugin == StoredCredential.nativePassword ? (Array(data.prefix(20)), nil) : nil
        case .oldAuthSwitch:
            lastSwitchPlugin = "mysql_old_password"
            nativeExchange = nil
        default: break
        }
    }

    /// Notes the client's answer to the backend's last authentication packet.
    mutating func noteClientAnswer(_ payload: ByteBuffer) {
        if let exchange = nativeExchange, exchange.response == nil {
            nativeExchange = (exchange.scramble, Array(payload.readableBytesView))
        }
    }

    /// Whether the client's native answer proves it knows the password behind `storedHash`
    /// (SHA1(SHA1(password))): answer = SHA1(password) XOR SHA1(scramble ‖ storedHash), as
    /// sql/password.c check_scramble(). A proof is only made for a hash the client has shown it
    /// holds the password of, so it never reveals another (stale, or another row's) hash.
    func clientProvedNativePassword(storedHash: [UInt8]) -> Bool {
        guard storedHash.count == 20, let exchange = nativeExchange, exchange.scramble.count == 20,
            let response = exchange.response, response.count == 20
        else { return false }
        let mask = SHA1Digest.hash(exchange.scramble + storedHash)
        let candidate = zip(response, mask).map { $0 ^ $1 }
        return SHA1Digest.hash(candidate) == storedHash
    }

    /// The client plugin that finished the login: the server runs the account's plugins in
    /// order and asks the client to switch whenever the client plugin the next one needs is not
    /// the client's current one (sql/sql_acl.cc acl_authenticate(), do_auth_once()), so it is the
    /// last switch's plugin, else the client's own. Names on the wire are client plugin names.
    var succeededClientPlugin: String {
        lastSwitchPlugin ?? clientPlugin?.lowercased() ?? StoredCredential.nativePassword
    }

    /// The client plugin a server plugin asks for (its `client_auth_plugin`; none means the
    /// native one, as for unix_socket). Unknown plugins are taken to ask for their own name.
    static func clientPlugin(forServerPlugin plugin: String) -> String {
        switch plugin {
        case StoredCredential.ed25519: return "client_ed25519"
        case "unix_socket", "named_pipe": return StoredCredential.nativePassword
        default: return plugin
        }
    }

    /// The stored credential the proof is made from, or nil when there is none to prove: no
    /// method of the account uses the client plugin that finished (the accounts file is not the
    /// backend's truth), two do (which one succeeded cannot be told from the wire, e.g.
    /// `unix_socket OR mysql_native_password`), its credential is unknown (plaintext in the
    /// file) or empty (passwordless, for which MariaDB sends no info either), or the client
    /// cannot hash for it (PAM, GSSAPI, unix_socket, …).
    func credential(from credentials: [StoredCredential]) -> [UInt8]? {
        let plugin = succeededClientPlugin
        let candidates = credentials.filter { Self.clientPlugin(forServerPlugin: $0.plugin) == plugin }
        guard candidates.count == 1, let credential = candidates.first, credential.clientCanHash,
            let salt = credential.salt, !salt.isEmpty
        else { return nil }
        return salt
    }

    /// `0x01` and the 64 upper-case hex digits of SHA-256(salt ‖ scramble ‖ certificate SHA-256).
    static func info(salt: [UInt8], scramble: [UInt8], certificateSHA256: [UInt8]) -> [UInt8] {
        let digest = SHA256Digest.hash(salt + scramble + certificateSHA256)
        let hexDigits = Array("0123456789ABCDEF".utf8)
        var info: [UInt8] = [0x01]
        for byte in digest {
            info.append(hexDigits[Int(byte >> 4)])
            info.append(hexDigits[Int(byte & 0x0F)])
        }
        return info
    }

    /// The login OK with `info` in place of the backend's, everything else (affected rows,
    /// insert id, status, warnings, session-state block) kept. nil if the packet does not
    /// re-encode to exactly the bytes received, so nothing the proxy does not understand is lost.
    static func replacingInfo(in payload: ByteBuffer, with info: [UInt8], capabilities: CapabilityFlags) -> ByteBuffer?
    {
        guard var ok = try? OKPacket.decode(payload, capabilities: capabilities),
            ok.encode(capabilities: capabilities) == payload
        else { return nil }
        ok.info = info
        return ok.encode(capabilities: capabilities)
    }

    /// The OK to send the client after a successful initial login: with the proof for the
    /// proxy's certificate when the client is on TLS and the matched account's credential for
    /// the plugin that succeeded is known; otherwise the backend's OK unchanged (its own info,
    /// if any, verifies only when the backend serves the very certificate the proxy serves).
    func loginOK(
        _ payload: ByteBuffer,
        capabilities: CapabilityFlags,
        tls: TLSFacts?,
        account: AccountRow?
    ) -> ByteBuffer {
        guard let tls, tls.serverCertificateSHA256.count == 32, greetingScramble.count == 20,
            let account, let salt = credential(from: account.credentials)
        else { return payload }
        if succeededClientPlugin == StoredCredential.nativePassword, !clientProvedNativePassword(storedHash: salt) {
            return payload
        }
        let proof = Self.info(salt: salt, scramble: greetingScramble, certificateSHA256: tls.serverCertificateSHA256)
        return Self.replacingInfo(in: payload, with: proof, capabilities: capabilities) ?? payload
    }
}
