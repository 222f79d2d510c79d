import AccessPolicy
import FoundationEssentials
import Glibc
import ProxyConfiguration
import ProxyTLS

/// Everything new connections are served with: the settings, the TLS context built from them and
/// the compiled accounts file. Immutable; startup builds one, every reload builds a new one and
/// swaps it in only if all of it loaded. Each connection keeps the settings and TLS context it was
/// accepted with; its account checks use the accounts of the snapshot current when they run.
public struct ServerSnapshot: Sendable {
    public let settings: ProxySettings
    public let tlsContext: TLSServerContext?
    public let policy: AccessPolicy?
    /// The client context for TLS to the backend (`backend_ssl`), with its session cache.
    public let backendTLSContext: TLSClientContext?

    public init(
        settings: ProxySettings,
        tlsContext: TLSServerContext?,
        policy: AccessPolicy?,
        backendTLSContext: TLSClientContext? = nil
    ) {
        self.settings = settings
        self.tlsContext = tlsContext
        self.policy = policy
        self.backendTLSContext = backendTLSContext
    }

    /// Loads the TLS files and the accounts file named by `settings`. Blocking file I/O: call it
    /// off the event loops.
    public static func load(settings: ProxySettings) throws(SnapshotLoadError) -> ServerSnapshot {
        var tlsContext: TLSServerContext?
        if settings.tls.isEnabled {
            do {
                tlsContext = try TLSServerContext(settings: settings.tls)
            } catch {
                throw .tls(error)
            }
        }
        var backendTLSContext: TLSClientContext?
        if settings.backendTLS.isEnabled {
            do {
                backendTLSContext = try TLSClientContext(settings: settings.backendTLS)
            } catch {
                throw .tls(error)
            }
        }
        var policy: AccessPolicy?
        if let path = settings.accountsPath {
            do {
                policy = try AccessPolicy.load(path: path)
            } catch {
                throw .accounts(error)
            }
        } else if settings.strictAccounts {
            throw .invalid("strict_accounts is ON but no accounts file is configured (set accounts = PATH)")
        }
        if settings.backendTLS.isEnabled, settings.backendTLS.certificateAndKey != nil,
            !settings.strictAccounts
        {
            // The proxy's certificate would satisfy the backend's REQUIRE X509/ISSUER/SUBJECT for
            // every client: only the accounts file can still check the client's own certificate,
            // so every user must be in it (fail closed rather than widen access).
            throw .invalid(
                "backend_ssl_cert needs strict_accounts = ON: the backend sees the proxy's certificate for every client, so its accounts with REQUIRE X509, ISSUER or SUBJECT would no longer check the client's; list every user with its REQUIRE in the accounts file (see docs/security.md)"
            )
        }
        return ServerSnapshot(
            settings: settings,
            tlsContext: tlsContext,
            policy: policy,
            backendTLSContext: backendTLSContext
        )
    }

    /// Warnings worth logging whenever this snapshot is installed.
    public var warnings: [String] {
        var warnings = policy?.warnings(skipNameResolve: settings.skipNameResolve) ?? []
        if tlsContext != nil, settings.tls.caPath == nil, settings.tls.caDirectory == nil {
            // As MariaDB: no ssl_ca/ssl_capath means OpenSSL's default verify paths (the system store).
            warnings.append(
                "no ssl_ca or ssl_capath: client certificates are verified against the system's CA store, so a certificate from any public CA satisfies REQUIRE X509; set ssl_ca to the CA that issues your clients' certificates"
            )
        }
        return warnings
    }

    /// A warning when the private key file's owner or mode breaks PostgreSQL's rule
    /// (``PrivateKeyPermissions``) for the identity the proxy serves as.
    public func keyPermissionWarning(service: PrivateKeyPermissions.ServiceIdentity) -> String? {
        guard tlsContext != nil, let files = settings.tls.certificateAndKey else { return nil }
        return PrivateKeyPermissions.warning(path: files.key, service: service)
    }
}

/// Why a snapshot could not be built.
public enum SnapshotLoadError: Error, Sendable, CustomStringConvertible {
    case tls(TLSConfigurationError)
    case accounts(PolicyParseError)
    case invalid(String)

    /// For startup: the option or file at fault and what was expected.
    public var description: String {
        switch self {
        case .tls(let error): return "\(error)"
        case .accounts(let error): return "\(error)"
        case .invalid(let message): return message
        }
    }

    /// For a reload, worded as MariaDB's FLUSH SSL reports it where TLS is at fault.
    public var reloadMessage: String {
        switch self {
        case .tls(let error): return "Failed to refresh SSL, error: \(error.mariaDBReason) (\(error))"
        case .accounts(let error): return "Failed to reload the accounts file: \(error)"
        case .invalid(let message): return "Failed to reload: \(message)"
        }
    }
}
