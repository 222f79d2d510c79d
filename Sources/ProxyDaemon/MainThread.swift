import FoundationEssentials
import Logging
import NIOCore
import NIOPosix
import Prometheus
import ProxyServer
import ServiceLifecycle

/// Runs the services off the main thread and parks the main thread as an ordinary blocked thread.
///
/// Why not top-level `await`: Swift's async main hands the main thread to libdispatch's
/// `dispatch_main`, which leaves it in `pthread_exit`, trapped in `sigsuspend`. glibc's `setuid`
/// changes the ids of every thread except exiting ones, so after `user = NAME` that thread would
/// keep uid 0 and `ps` would show the proxy as root. A thread blocked in `pause()` is reached.
enum MainThread {
    /// Never returns: the detached task exits the process once the service group has stopped.
    static func serve(
        _ serviceGroup: ServiceGroup,
        metrics: (address: String, registry: PrometheusCollectorRegistry)?,
        group: MultiThreadedEventLoopGroup,
        logger: Logger
    ) -> Never {
        Task.detached {
            exit(await run(serviceGroup, metrics: metrics, group: group, logger: logger).rawValue)
        }
        // Nothing is ever scheduled on the main queue or the main actor; signal handlers may run here.
        while true { pause() }
    }

    private static func run(
        _ serviceGroup: ServiceGroup,
        metrics: (address: String, registry: PrometheusCollectorRegistry)?,
        group: MultiThreadedEventLoopGroup,
        logger: Logger
    ) async -> ExitStatus {
        var metricsChannel: Channel?
        if let metrics {
            do {
                metricsChannel = try await MetricsEndpoint.bind(
                    address: metrics.address,
                    registry: metrics.registry,
                    group: group
                )
                logger.notice("serving metrics", metadata: ["address": "http://\(metrics.address)/metrics"])
            } catch {
                fail("cannot serve metrics on '\(metrics.address)': \(error)", status: .failure)
            }
        }
        var status = ExitStatus.success
        do {
            try await serviceGroup.run()
        } catch {
            logger.critical("stopped", metadata: ["error": "\(error)"])
            status = .failure
        }
        try? await metricsChannel?.close()
        try? await group.shutdownGracefully()
        if status == .success { logger.notice("shutdown complete") }
        return status
    }
}
