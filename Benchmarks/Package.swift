// swift-tools-version:6.1
//
// Micro-benchmarks for mariadb-tls-proxy's hot pure code (ordo-one/benchmark). Run from the
// repository root with `make bench-micro`, or by hand (see README.md here):
//
//   swift package --package-path Benchmarks --scratch-path Benchmarks/.build-bench benchmark
//
// The project's modules come from the root package by path (its library products), as swift-nio's
// Benchmarks package does; `.package(name:path:)` names it, since a path dependency's identity is
// otherwise its directory's name, which differs between clones.
import PackageDescription

let nioCore = Target.Dependency.product(name: "NIOCore", package: "swift-nio")

/// One of the project's modules, a library product of the root package.
func project(_ module: String) -> Target.Dependency {
    .product(name: module, package: "mariadb-tls-proxy")
}

let package = Package(
    name: "mariadb-tls-proxy-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        // The trait must be named: the default traits also pull swift-runtime-interposer (not mirrored here).
        .package(url: "https://github.com/ordo-one/benchmark.git", from: "1.38.0", traits: ["MallocInterposer"]),
        .package(name: "mariadb-tls-proxy", path: ".."),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.80.0"),
    ],
    targets: [
        // --- Benchmarks (the plugin runs every executable target under Benchmarks/) ---
        .executableTarget(
            name: "MicroBenchmarks",
            dependencies: [
                project("MariaDBWire"), project("AccessPolicy"), project("ProxyServer"), project("ProxyTLS"), nioCore,
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/MicroBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        )
    ]
)
