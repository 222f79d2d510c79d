import FoundationEssentials
import ProxyServer
import ProxyTLS
import ServiceLifecycle
import SystemdIntegration

/// Keeps systemd's STATUS= line current (`systemctl status` shows it): open connections, the
/// certificate's expiry and the reload counts. Runs only when NOTIFY_SOCKET is set.
package struct ServiceStatus: Service {
    let server: ProxyServer
    let counters: ReloadCounters

    package func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(5)) }
            } catch {
                break
            }
            SystemdNotifier.status(
                Self.line(
                    openConnections: server.openConnections,
                    counters: counters,
                    tlsContext: server.currentSnapshot.tlsContext
                )
            )
        }
    }

    /// `12 connections; reloads: 3 ok, 0 failed; certificate CN=db.example.com expires 2027-01-31T12:00:00Z`.
    package static func line(openConnections: Int, counters: ReloadCounters, tlsContext: TLSServerContext?) -> String {
        "\(openConnections) connections; reloads: \(counters.summary)" + certificateSummary(tlsContext)
    }

    /// `; certificate <subject> expires <ISO 8601>`, or nothing without TLS.
    package static func certificateSummary(_ context: TLSServerContext?) -> String {
        guard let certificate = context?.certificate else { return "" }
        return "; certificate \(certificate.summary)"
    }
}
