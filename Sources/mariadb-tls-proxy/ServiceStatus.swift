import FoundationEssentials
import ProxyServer
import ProxyTLS
import ServiceLifecycle
import SystemdIntegration

/// Keeps systemd's STATUS= line current (`systemctl status` shows it): open connections, the
/// certificate's expiry and the reload counts. Runs only when NOTIFY_SOCKET is set.
struct ServiceStatus: Service {
    let server: ProxyServer

    func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(5)) }
            } catch {
                break
            }
            SystemdNotifier.status(Self.line(server: server))
        }
    }

    static func line(server: ProxyServer) -> String {
        "\(server.openConnections) connections; reloads: \(ReloadCounters.succeeded.value) ok, \(ReloadCounters.failed.value) failed"
            + certificateSummary(server.currentSnapshot.tlsContext)
    }

    static func certificateSummary(_ context: TLSServerContext?) -> String {
        guard let certificate = context?.certificate else { return "" }
        return "; certificate \(certificate.summary)"
    }
}
