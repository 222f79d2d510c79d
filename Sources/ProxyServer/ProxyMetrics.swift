import Metrics

/// Connection metrics (swift-metrics; exported by whatever backend the daemon bootstraps).
enum ProxyMetrics {
    static let openConnections = Gauge(label: "mariadb_tls_proxy_open_connections")

    /// One counter per outcome class, so refusals can be alerted on without parsing logs.
    static func connectionEnded(outcome: String) {
        Counter(label: "mariadb_tls_proxy_connections_total", dimensions: [("outcome", outcomeClass(outcome))]).increment()
    }

    static func outcomeClass(_ outcome: String) -> String {
        if outcome == "relayed" { return "relayed" }
        if outcome.hasPrefix("refused: 1040") { return "too_many_connections" }
        if outcome.hasPrefix("refused: 3159") { return "insecure_transport" }
        if outcome.hasPrefix("refused: 1045") { return "access_denied" }
        if outcome.hasPrefix("refused: TLS") { return "tls_failed" }
        if outcome.hasPrefix("refused by backend") { return "backend_refused" }
        if outcome.hasPrefix("refused") { return "refused" }
        if outcome.hasPrefix("backend failed") { return "backend_failed" }
        if outcome.hasPrefix("dropped") { return "timeout" }
        return "client_closed"
    }
}
