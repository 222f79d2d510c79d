// swift-tools-version:6.1
//
// Micro-benchmarks for mariadb-tls-proxy's hot pure code (ordo-one/benchmark). Run from the
// repository root with `make bench-micro`, or by hand (see README.md here):
//
//   swift package --package-path Benchmarks --scratch-path Benchmarks/.build-bench benchmark
//
// Why the project's modules are symlinks (Sources/MariaDBWire -> ../../Sources/MariaDBWire, …)
// instead of `.package(path: "..")`: the root package vends only its executable, and a package
// dependency's targets can be used only through library products. The symlinks compile the very
// same source directories here, with the same dependencies as the root manifest (as
// FuzzTesting/Package.swift does); if the root package ever gains library products, replace the
// symlinked targets below with `.package(path: "..")` and `.product(name: …, package: "mariadb-tls-proxy")`.
//
// ProxyServer (and with it ProxyTLS, ProxyConfiguration, COpenSSL and the server's NIO, logging and
// metrics packages) is here only for `FuzzEntryPoints`, the public façade over the relay's
// COM_CHANGE_USER interceptor and the login state machine.
import PackageDescription

let nioCore = Target.Dependency.product(name: "NIOCore", package: "swift-nio")

let package = Package(
    name: "mariadb-tls-proxy-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        // The trait must be named: the default traits also pull swift-runtime-interposer (not mirrored here).
        .package(url: "https://github.com/ordo-one/benchmark.git", from: "1.38.0", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.6.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.4.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.0.0"),
    ],
    targets: [
        // --- The project's modules (symlinked source directories; dependencies as in ../Package.swift) ---
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        .target(name: "MariaDBWire", dependencies: [nioCore]),
        .target(name: "AccessPolicy"),
        .target(name: "ProxyConfiguration", dependencies: ["ProxyTLS"]),
        .target(name: "ProxyTLS", dependencies: ["COpenSSL", nioCore]),
        .target(
            name: "ProxyServer",
            dependencies: [
                "AccessPolicy", "MariaDBWire", "ProxyConfiguration", "ProxyTLS",
                nioCore,
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]
        ),

        // --- Benchmarks (the plugin runs every executable target under Benchmarks/) ---
        .executableTarget(
            name: "MicroBenchmarks",
            dependencies: [
                "MariaDBWire", "AccessPolicy", "ProxyServer", "ProxyTLS", nioCore,
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/MicroBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)
