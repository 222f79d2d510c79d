import Logging
import Metrics
import NIOCore

/// What a connection tells the operator: its log lines (as `log_connections` says) and its metrics.
/// Nothing here runs per relayed packet: byte counts are added to the metrics when a read batch
/// leaves at least ``byteCountStep`` uncounted, and when the connection ends.
extension ProxyConnection {
    /// Uncounted bytes that make a read batch add them to the metrics during a session.
    static let byteCountStep = 64 * 1024

    /// `log_connections` is ALL: allowed changes of user are logged too.
    var logsEverything: Bool { environment.settings.logConnections == .all }
    /// `log_connections` is not OFF: refused commands in a session are logged.
    var logsRefusals: Bool { environment.settings.logConnections != .off }

    var logLine: ConnectionLogLine {
        ConnectionLogLine(
            environment: environment,
            clientAddress: clientAddress,
            tls: tlsFacts,
            user: machine.username,
            account: machine.matchedAccount,
            backendConnectionID: machine.backendConnectionID
        )
    }

    func recordTLSHandshake() {
        guard let started = tlsStartedAt else { return }
        ProxyMetrics.tlsHandshakeDuration.recordNanoseconds((NIODeadline.now() - started).nanoseconds)
    }

    /// The backend's login OK has been relayed.
    func sessionEstablished() {
        let now = NIODeadline.now()
        establishedAt = now
        ProxyMetrics.sessionEstablished(tls: tlsFacts, loginDuration: (now - startedAt).nanoseconds)
        logLine.emitEstablished(to: logger)
    }

    /// Under `policy_mode = AUDIT`: logs (whatever log_connections says; that is the point of the
    /// mode) and counts what the accounts file would have refused and the machine let through.
    func reportAuditedRefusal(at step: String) {
        guard let reason = machine.takeAuditedRefusal() else { return }
        ProxyMetrics.auditWouldRefuse(at: step)
        var metadata = logLine.sessionMetadata
        metadata["reason"] = "\(reason)"
        metadata["at"] = "\(step)"
        logger.warning("policy_mode = AUDIT: would refuse (1045), let through", metadata: metadata)
    }

    /// Sets `mariadb_tls_proxy_backend_up` from this connection's attempt, once.
    func recordBackendReachability(_ reachable: Bool) {
        guard backendReachable == nil else { return }
        backendReachable = reachable
        if reachable {
            ProxyMetrics.backendAnswered()
        } else {
            ProxyMetrics.backendUnreachable()
        }
    }

    /// Adds the bytes not yet counted to the metrics, if there are enough to be worth it.
    func countBytesIfMany() {
        if bytesFromClient - bytesCounted.fromClient >= Self.byteCountStep || bytesToClient - bytesCounted.toClient >= Self.byteCountStep {
            countBytes()
        }
    }

    func countBytes() {
        let fromClient = bytesFromClient - bytesCounted.fromClient
        let toClient = bytesToClient - bytesCounted.toClient
        if fromClient > 0 { ProxyMetrics.clientReceivedBytes.increment(by: Int64(fromClient)) }
        if toClient > 0 { ProxyMetrics.clientSentBytes.increment(by: Int64(toClient)) }
        bytesCounted = (bytesFromClient, bytesToClient)
    }

    /// Both sides are closed: the metrics and the `connection closed` line.
    func connectionEnded() {
        let now = NIODeadline.now()
        let outcome = machine.outcome
        countBytes()
        ProxyMetrics.connectionEnded(outcome: outcome)
        if let establishedAt {
            ProxyMetrics.sessionDuration.recordNanoseconds((now - establishedAt).nanoseconds)
        }
        logLine.emitClosed(
            outcome: outcome, bytesFromClient: bytesFromClient, bytesToClient: bytesToClient, duration: now - startedAt, to: logger)
    }
}
