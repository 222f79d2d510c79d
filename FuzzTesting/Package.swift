// swift-tools-version:6.0
//
// libFuzzer targets for mariadb-tls-proxy. Build and run with `make fuzz` / `make fuzz-regress`
// from the repository root (see README.md here), or by hand:
//
//   cd FuzzTesting
//   swift build -c debug --scratch-path .build-fuzz -Xswiftc -sanitize=fuzzer,address
//   .build-fuzz/debug/FuzzClientStream -max_total_time=60 /tmp/corpus-copy Corpus/FuzzClientStream
//
// Why the project's modules are symlinks (Sources/MariaDBWire -> ../../Sources/MariaDBWire, …)
// instead of `.package(path: "..")`: the root package vends only its executable, and a package
// dependency's targets can be used only through library products. The symlinks compile the very
// same source directories here, with the same dependencies as the root manifest; if the root
// package ever gains library products, replace the symlinked targets below with
// `.package(path: "..")` and `.product(name: …, package: "mariadb-tls-proxy")`.
import PackageDescription

let nioCore = Target.Dependency.product(name: "NIOCore", package: "swift-nio")

/// One libFuzzer executable: `Sources/<name>/main.swift`.
func fuzzTarget(_ name: String, _ dependencies: [Target.Dependency]) -> Target {
    .executableTarget(name: name, dependencies: ["CLibFuzzer", "FuzzSupport"] + dependencies)
}

let package = Package(
    name: "mariadb-tls-proxy-fuzz",
    platforms: [.macOS(.v15)],
    dependencies: [
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

        // --- Fuzzing ---
        // Declares libFuzzer's LLVMFuzzerRunDriver (header only; the runtime comes with -sanitize=fuzzer).
        .target(name: "CLibFuzzer"),
        // Shared helpers: byte decoding, captured packets, the sample policy.
        .target(name: "FuzzSupport", dependencies: ["MariaDBWire", "AccessPolicy", nioCore]),
        fuzzTarget("FuzzClientStream", ["MariaDBWire", "AccessPolicy", "ProxyTLS", "ProxyServer", nioCore]),
        fuzzTarget("FuzzBackendStream", ["MariaDBWire", "AccessPolicy", "ProxyTLS", "ProxyServer", nioCore]),
        fuzzTarget("FuzzOptionFile", ["ProxyConfiguration"]),
        fuzzTarget("FuzzAccountsFile", ["AccessPolicy"]),
    ]
)
