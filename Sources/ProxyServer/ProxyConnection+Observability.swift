import Logging
import Metrics
import NIOCore

/// What a connection tells the operator: its log lines (as `log_connections` says) and its metrics.
/// Nothing here runs per relayed packet: byte counts are added to the metrics when a read batch
/// leaves at least ``byteCountStep`` uncounted, and when the connection ends.
/// What one connection counts and times for its log lines and metrics.
struct ConnectionStatistics {
    let startedAt = NIODeadline.now()
    var bytesFromClient = 0
    var bytesToClient = 0
    /// The part of the byte counts already added to the metrics.
    var bytesCounted = (fromClient: 0, toClient: 0)
    var tlsStartedAt: NIODeadline?
    /// When the backend's login OK was relayed.
    var establishedAt: NIODeadline?
    /// Whether the backend answered (greeting or ERR) or failed before it did; counted once.
    var backendReachable: Bool?
    /// The first COM_MULTI of the session was logged (further ones are not).
    var loggedUnknownCommand = false
    /// The first allowed COM_CHANGE_USER of the session was logged at info (further ones at debug).
    var loggedAllowedChangeUser = false
}

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
            tls: machine.login.tlsFacts,
            user: machine.login.username,
            account: machine.login.matchedAccount,
            backendConnectionID: machine.login.backendConnectionID
        )
    }

    func recordTLSHandshake() {
        guard let started = statistics.tlsStartedAt else { return }
        ProxyMetrics.tlsHandshakeDuration.recordNanoseconds((NIODeadline.now() - started).nanoseconds)
    }

    /// The backend's login OK has been relayed.
    func sessionEstablished() {
        let now = NIODeadline.now()
        statistics.establishedAt = now
        ProxyMetrics.sessionEstablished(
            tls: machine.login.tlsFacts,
            loginDuration: (now - statistics.startedAt).nanoseconds
        )
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
        guard statistics.backendReachable == nil else { return }
        statistics.backendReachable = reachable
        if reachable {
            ProxyMetrics.backendAnswered()
        } else {
            ProxyMetrics.backendUnreachable()
        }
    }

    /// Adds the bytes not yet counted to the metrics, if there are enough to be worth it.
    func countBytesIfMany() {
        let counted = statistics.bytesCounted
        if statistics.bytesFromClient - counted.fromClient >= Self.byteCountStep
            || statistics.bytesToClient - counted.toClient >= Self.byteCountStep
        {
            countBytes()
        }
    }

    func countBytes() {
        let fromClient = statistics.bytesFromClient - statistics.bytesCounted.fromClient
        let toClient = statistics.bytesToClient - statistics.bytesCounted.toClient
        if fromClient > 0 { ProxyMetrics.clientReceivedBytes.increment(by: Int64(fromClient)) }
        if toClient > 0 { ProxyMetrics.clientSentBytes.increment(by: Int64(toClient)) }
        statistics.bytesCounted = (statistics.bytesFromClient, statistics.bytesToClient)
    }

    /// Both sides are closed: the metrics and the `connection closed` line.
    func connectionEnded(outcome: ConnectionOutcome) {
        let now = NIODeadline.now()
        countBytes()
        ProxyMetrics.connectionEnded(outcome: outcome)
        if let establishedAt = statistics.establishedAt {
            ProxyMetrics.sessionDuration.recordNanoseconds((now - establishedAt).nanoseconds)
        }
        logLine.emitClosed(
            outcome: outcome,
            bytesFromClient: statistics.bytesFromClient,
            bytesToClient: statistics.bytesToClient,
            duration: now - statistics.startedAt,
            to: logger
        )
    }
}
