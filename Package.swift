// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "mariadb-tls-proxy",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "mariadb-tls-proxy", targets: ["mariadb-tls-proxy"]),
        // The modules as libraries, for the fuzzing and benchmark packages (FuzzTesting/, Benchmarks/),
        // which depend on this one by path; not a public API with any stability promise.
        .library(name: "MariaDBWire", targets: ["MariaDBWire"]),
        .library(name: "AccessPolicy", targets: ["AccessPolicy"]),
        .library(name: "ProxyConfiguration", targets: ["ProxyConfiguration"]),
        .library(name: "ProxyTLS", targets: ["ProxyTLS"]),
        .library(name: "ProxyServer", targets: ["ProxyServer"]),
        .library(name: "ProxyDaemon", targets: ["ProxyDaemon"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.6.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.4.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.0.0"),
    ],
    targets: [
        // System OpenSSL 3 (libssl-dev), with static inline wrappers for its function-like macros.
        .systemLibrary(
            name: "COpenSSL",
            pkgConfig: "openssl",
            providers: [.apt(["libssl-dev"])]
        ),
        // Pure MariaDB wire format: packets, capability flags, sequence ids, error catalogue. No I/O.
        .target(
            name: "MariaDBWire",
            dependencies: [.product(name: "NIOCore", package: "swift-nio")]
        ),
        // Pure per-account TLS policy: MariaDB's account SQL, host matching and ordering, acl_check_ssl.
        .target(name: "AccessPolicy"),
        // Pure option-file and command-line parsing into validated settings (ProxyTLS's among them).
        .target(name: "ProxyConfiguration", dependencies: ["ProxyTLS"]),
        // OpenSSL contexts and their settings, ByteBuffer BIO and the NIO TLS handlers.
        .target(
            name: "ProxyTLS",
            dependencies: [
                "COpenSSL",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]
        ),
        // libsystemd (libsystemd-dev): sd_notify, socket activation, watchdog, sd_journal_sendv.
        .systemLibrary(
            name: "CSystemd",
            pkgConfig: "libsystemd",
            providers: [.apt(["libsystemd-dev"])]
        ),
        // Service-manager integration: notifications, watchdog, inherited sockets, journal logging.
        .target(
            name: "SystemdIntegration",
            dependencies: [
                "CSystemd",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // Listeners, per-connection login state machine, backend connector and relay.
        .target(
            name: "ProxyServer",
            dependencies: [
                "AccessPolicy",
                "MariaDBWire",
                "ProxyConfiguration",
                "ProxyTLS",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]
        ),
        // The daemon's logic: startup, privilege drop, backend identity check, reload, systemd status,
        // stderr logging and exit statuses. The executable target is only its main.swift.
        .target(
            name: "ProxyDaemon",
            dependencies: [
                "SystemdIntegration",
                "ProxyConfiguration",
                "ProxyServer",
                "ProxyTLS",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        .executableTarget(name: "mariadb-tls-proxy", dependencies: ["ProxyDaemon"]),
        .testTarget(
            name: "MariaDBWireTests",
            dependencies: ["MariaDBWire", .product(name: "NIOCore", package: "swift-nio")]
        ),
        .testTarget(name: "ProxyConfigurationTests", dependencies: ["ProxyConfiguration"]),
        .testTarget(
            name: "SystemdIntegrationTests",
            dependencies: [
                "SystemdIntegration",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ServiceLifecycleTestKit", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(name: "AccessPolicyTests", dependencies: ["AccessPolicy"]),
        .testTarget(
            name: "ProxyDaemonTests",
            dependencies: [
                "ProxyDaemon", "ProxyConfiguration", "ProxyServer", "ProxyTLS",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
            ]
        ),
        .testTarget(
            name: "ProxyTLSTests",
            dependencies: [
                "ProxyTLS", "COpenSSL",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "ProxyServerTests",
            dependencies: [
                "ProxyServer", "MariaDBWire", "ProxyConfiguration", "AccessPolicy", "ProxyTLS", "COpenSSL",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
    ]
)
