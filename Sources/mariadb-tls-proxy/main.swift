import AccessPolicy
import Foundation
import Logging
import NIOCore
import NIOPosix
import ProxyConfiguration
import ProxyServer
import ProxyTLS
import ServiceLifecycle

let programName = "mariadb-tls-proxy"
let programVersion = "0.1.0"

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("\(programName): \(message)\n".utf8))
    exit(1)
}

let parsed: ParsedCommandLine
do {
    parsed = try ProxyCommandLine.parseWithWarnings(Array(CommandLine.arguments.dropFirst()))
} catch {
    fail("\(error)")
}

let settings: ProxySettings
let checkOnly: Bool
switch parsed.request {
case .help:
    print(ProxyCommandLine.helpText)
    exit(0)
case .version:
    print("\(programName) \(programVersion) (\(OpenSSLVersion.text))")
    exit(0)
case .run(let runSettings, let check):
    settings = runSettings
    checkOnly = check
}

let logLevel = Logger.Level(rawValue: settings.logLevel.rawValue) ?? .info
LoggingSystem.bootstrap { _ in StderrLogHandler(logLevel: logLevel) }
let logger = Logger(label: programName)
for warning in parsed.warnings {
    logger.warning("\(warning)")
}

// Load every TLS file now: a missing or unreadable file, or a key that does not match, stops startup.
let tlsContext: TLSServerContext?
if settings.tls.isEnabled {
    do {
        tlsContext = try TLSServerContext(settings: settings.tls)
    } catch {
        fail("\(error)")
    }
} else {
    tlsContext = nil
}

// The accounts file: a syntax error stops startup with file:line:column.
let policy: AccessPolicy?
if let accountsPath = settings.accountsPath {
    do {
        policy = try AccessPolicy.load(path: accountsPath)
    } catch {
        fail("\(error)")
    }
    for warning in policy?.warnings(skipNameResolve: settings.skipNameResolve) ?? [] {
        logger.warning("\(warning)")
    }
} else {
    policy = nil
    if settings.strictAccounts {
        fail("strict_accounts is ON but no accounts file is configured (set accounts = PATH)")
    }
}

if checkOnly {
    print("\(programName): configuration OK")
    exit(0)
}

if tlsContext == nil {
    logger.warning("no ssl_cert/ssl_key configured: TLS is not offered to clients")
}
// SIGHUP would terminate the process by default; reload is handled elsewhere or ignored.
signal(SIGHUP, SIG_IGN)

let group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
let server = ProxyServer(settings: settings, tlsContext: tlsContext, policy: policy, group: group, logger: logger) { addresses in
    var metadata: Logger.Metadata = [
        "listen": "\(addresses.joined(separator: ", "))",
        "backend": "\(settings.backend)",
        "require_secure_transport": "\(settings.requireSecureTransport ? "ON" : "OFF")",
        "version": "\(programVersion)",
    ]
    if let policy, let path = settings.accountsPath {
        metadata["accounts"] = "\(path) (\(policy.rows.count) rows)"
    }
    if let tlsContext {
        metadata["certificate"] = "\(tlsContext.certificateSubject)"
        if let notAfter = tlsContext.certificateNotAfter {
            metadata["expires"] = "\(ISO8601DateFormatter().string(from: notAfter))"
        }
        metadata["tls_version"] = "\(settings.tls.versions.sorted().map(\.rawValue).joined(separator: ","))"
    }
    logger.notice("ready for connections", metadata: metadata)
}

let serviceGroup = ServiceGroup(
    configuration: .init(
        services: [.init(service: server)],
        gracefulShutdownSignals: [.sigterm, .sigint],
        logger: logger
    )
)
do {
    try await serviceGroup.run()
} catch {
    logger.critical("stopped", metadata: ["error": "\(error)"])
    try? await group.shutdownGracefully()
    exit(1)
}
try? await group.shutdownGracefully()
logger.notice("shutdown complete")
exit(0)
