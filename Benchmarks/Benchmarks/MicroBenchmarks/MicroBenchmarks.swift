// Micro-benchmarks of mariadb-tls-proxy's hot pure code. What each one measures: README.md here.
//
// Inputs come from Fixtures (built once, before any measurement). Each benchmark's closure runs
// once per sample; whatever a sample needs fresh is built before `benchmark.startMeasurement()`,
// and the measured part loops `benchmark.scaledIterations` times, so every reported figure is per
// operation (the `*` in the output marks scaled metrics).
import AccessPolicy
import Benchmark
import MariaDBWire
import NIOCore
import ProxyServer

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        // No .cpuTotal: on Linux it has a 10 ms resolution (0 or 10000 per sample at these sizes).
        metrics: [.wallClock, .throughput, .mallocCountTotal],
        warmupIterations: 10,
        // Short on purpose: the whole suite runs in about a minute on two shared cores.
        maxDuration: .seconds(1),
        maxIterations: 10_000
    )
    // Regression thresholds for `baseline check` would go here, before `kilo` copies the defaults
    // (or per benchmark in `configuration:`); unset, every metric gets the tool's 5 %. E.g.
    //   Benchmark.defaultConfiguration.thresholds = [.mallocCountTotal: .init(absolute: [.p50: 0, .p90: 0]), ...]
    // See README.md, "Thresholds".

    // The shortest operations (up to ~5 µs) loop 1000 times per sample: a sample costs ~0.1 µs of its own.
    let kilo = Benchmark.Configuration(scalingFactor: .kilo)

    // MARK: - MariaDBWire: framing and the first client packets (login phase)

    Benchmark("PacketFramer: 64 COM_QUERY in one read", configuration: kilo) { benchmark in
        for _ in benchmark.scaledIterations {
            var framer = PacketFramer()
            framer.append(Fixtures.queryStream)
            while let packet = try? framer.nextPacket() { blackHole(packet) }
        }
    }

    Benchmark("PacketFramer: 1 MiB packet in 16 KiB reads") { benchmark in
        for _ in benchmark.scaledIterations {
            var framer = PacketFramer()
            for read in Fixtures.bigQueryReads {
                framer.append(read)
                while let packet = try? framer.nextPacket() { blackHole(packet) }
            }
        }
    }

    Benchmark("HandshakeResponse.decode (206 B, 7 attributes)", configuration: kilo) { benchmark in
        let payload = ByteBuffer(bytes: Fixtures.handshakeResponse)
        let server = Fixtures.advertisedCapabilities
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(try? HandshakeResponse.decode(payload, clientCapabilities: nil, serverCapabilities: server))
        }
    }

    Benchmark("SSLRequest.decode (32 B)", configuration: kilo) { benchmark in
        let payload = ByteBuffer(bytes: Fixtures.sslRequest)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(try? SSLRequest.decode(payload))
        }
    }

    // MARK: - ProxyServer: the relay's client → backend path (COM_CHANGE_USER interceptor)

    Benchmark("Relay: 64 COM_QUERY in one read", configuration: kilo) { benchmark in
        var relay = RelaySession()
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(
                relay.read(
                    Fixtures.queryStream,
                    forward: { blackHole($0) },
                    changeUser: {
                        blackHole($0)
                        blackHole($1)
                    }
                )
            )
        }
    }

    Benchmark("Relay: 64 COM_QUERY, one read each") { benchmark in
        var relay = RelaySession()
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            for read in Fixtures.queryPackets {
                blackHole(
                    relay.read(
                        read,
                        forward: { blackHole($0) },
                        changeUser: {
                            blackHole($0)
                            blackHole($1)
                        }
                    )
                )
            }
        }
    }

    Benchmark("Relay: 1 MiB COM_QUERY in 16 KiB reads") { benchmark in
        var relay = RelaySession()
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            for read in Fixtures.bigQueryReads {
                blackHole(
                    relay.read(
                        read,
                        forward: { blackHole($0) },
                        changeUser: {
                            blackHole($0)
                            blackHole($1)
                        }
                    )
                )
            }
        }
    }

    Benchmark("Relay: COM_CHANGE_USER held and checked (50 accounts)", configuration: kilo) { benchmark in
        var relay = RelaySession()
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(
                relay.read(
                    Fixtures.changeUserRead,
                    forward: { blackHole($0) },
                    changeUser: {
                        blackHole($0)
                        blackHole($1)
                    }
                )
            )
        }
    }

    // MARK: - AccessPolicy

    Benchmark("Policy: parse accounts file (50 accounts)") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try? AccessPolicy.parse(Fixtures.accountsSQL, fileName: "bench-accounts.sql"))
        }
    }

    Benchmark("Policy: match + evaluate app@10.20.99.7 (wildcard row)", configuration: kilo) { benchmark in
        let policy = Fixtures.policy
        let client = Fixtures.appClient
        let security = Fixtures.appSecurity
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            if case .matched(let row) = policy.match(user: "app", client: client, skipNameResolve: true) {
                blackHole(row.requirement.evaluate(security))
            }
        }
    }

    Benchmark("Policy: match + evaluate unlisted user (anonymous row)", configuration: kilo) { benchmark in
        let policy = Fixtures.policy
        let security = Fixtures.appSecurity
        let client = ClientIdentity.tcp(ip: "10.99.1.2", resolvedHost: nil)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            if case .matched(let row) = policy.match(user: "report_writer", client: client, skipNameResolve: true) {
                blackHole(row.requirement.evaluate(security))
            }
        }
    }

    // MARK: - A whole login through the state machine

    Benchmark("Login: TLS login with client certificate (state machine)") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(Fixtures.tlsLogin().isRelaying)
        }
    }

    // Fixture sanity, once: the paths above measure what their names say.
    precondition(Fixtures.tlsLogin().isRelaying, "the benchmark login does not reach the relay phase")
    var check = RelaySession()
    var allowed: Bool?
    _ = check.read(Fixtures.changeUserRead, forward: { _ in }, changeUser: { allowed = $1 })
    precondition(allowed == true, "the benchmark COM_CHANGE_USER is not intercepted and allowed")
    let appDecision = Fixtures.policy.match(user: "app", client: Fixtures.appClient, skipNameResolve: true)
    guard case .matched(let appRow) = appDecision, appRow.account.host == "10.20.%",
        appRow.requirement.evaluate(Fixtures.appSecurity) == .allow
    else { preconditionFailure("app@10.20.99.7 does not match 'app'@'10.20.%' and pass: \(appDecision)") }
    let anonymous = Fixtures.policy.match(
        user: "report_writer",
        client: .tcp(ip: "10.99.1.2", resolvedHost: nil),
        skipNameResolve: true
    )
    guard case .matched(let anonymousRow) = anonymous, anonymousRow.account.user.isEmpty
    else { preconditionFailure("report_writer@10.99.1.2 does not match the anonymous row: \(anonymous)") }
}
