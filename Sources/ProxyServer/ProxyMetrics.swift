import Metrics
import ProxyConfiguration
import ProxyTLS

/// The proxy's metrics (swift-metrics; exported by whatever backend the daemon bootstraps, with
/// the help texts and buckets of ``MetricDescriptions``). Every update here happens per connection
/// or per event, never per relayed packet.
///
/// The handles are created on first use, so the metrics system must be bootstrapped before a
/// server is created.
public enum ProxyMetrics {
    static let openConnections = Gauge(label: MetricName.openConnections)
    static let clientReceivedBytes = Counter(label: MetricName.clientReceivedBytes)
    static let clientSentBytes = Counter(label: MetricName.clientSentBytes)
    static let tlsHandshakeDuration = Timer(label: MetricName.tlsHandshakeDuration)
    static let loginDuration = Timer(label: MetricName.loginDuration)
    static let sessionDuration = Timer(label: MetricName.sessionDuration)
    static let handshakesInFlight = Gauge(label: MetricName.tlsHandshakesInFlight)
    static let handshakesWaiting = Gauge(label: MetricName.tlsHandshakesWaiting)
    static let maxConnections = Gauge(label: MetricName.maxConnections)
    static let maxHandshakes = Gauge(label: MetricName.maxHandshakes)
    // Created at the first connection attempt, so the series is absent (not 0) before one was made.
    static let backendUp = Gauge(label: MetricName.backendUp)
    static let backendConnectFailures = Counter(label: MetricName.backendConnectFailures)

    /// One counter per outcome class, so refusals can be alerted on without parsing logs.
    static func connectionEnded(outcome: ConnectionOutcome) {
        Counter(label: MetricName.connections, dimensions: [("outcome", outcome.metricLabel)]).increment()
    }

    /// `policy_mode = AUDIT` let through what the accounts file would have refused.
    static func auditWouldRefuse(at step: String) {
        Counter(label: MetricName.auditWouldRefuse, dimensions: [("at", step)]).increment()
    }

    /// The backend's login OK reached the client.
    static func sessionEstablished(tls: TLSFacts?, loginDuration duration: Int64) {
        loginDuration.recordNanoseconds(duration)
        if let tls {
            Counter(label: MetricName.tlsSessions, dimensions: [("version", tls.version), ("cipher", tls.cipher)])
                .increment()
        }
    }

    /// A backend connection got an answer (its greeting, or an ERR in its place).
    static func backendAnswered() {
        backendUp.record(1)
    }

    /// A backend connection failed before the backend said anything: refused, timed out, or closed.
    static func backendUnreachable() {
        backendUp.record(0)
        backendConnectFailures.increment()
    }

    /// The limits in force (at startup and after each reload).
    static func recordLimits(_ settings: ProxySettings) {
        maxConnections.record(settings.maxConnections)
        maxHandshakes.record(settings.maxHandshakes)
    }

    /// `mariadb_tls_proxy_build_info{version,openssl} 1`: which build and OpenSSL library are running.
    public static func recordBuildInfo(version: String, openSSL: String) {
        Gauge(label: MetricName.buildInfo, dimensions: [("version", version), ("openssl", openSSL)]).record(1)
    }
}
