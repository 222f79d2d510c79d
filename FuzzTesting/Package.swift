// swift-tools-version:6.0
//
// libFuzzer targets for mariadb-tls-proxy. Build and run with `make fuzz` / `make fuzz-regress`
// from the repository root (see README.md here), or by hand:
//
//   cd FuzzTesting
//   swift build -c debug --scratch-path .build-fuzz -Xswiftc -sanitize=fuzzer,address
//   .build-fuzz/debug/FuzzClientStream -max_total_time=60 /tmp/corpus-copy Corpus/FuzzClientStream
//
// The project's modules come from the root package by path (its library products), so the fuzzers
// exercise exactly the code the daemon ships, built here with the fuzzer's instrumentation.
// `.package(name:path:)` names it, since a path dependency's identity is otherwise its directory's
// name, which differs between clones.
import PackageDescription

let nioCore = Target.Dependency.product(name: "NIOCore", package: "swift-nio")

/// One of the project's modules, a library product of the root package.
func project(_ module: String) -> Target.Dependency {
    .product(name: module, package: "mariadb-tls-proxy")
}

/// One libFuzzer executable: `Sources/<name>/main.swift`.
func fuzzTarget(_ name: String, _ dependencies: [Target.Dependency]) -> Target {
    .executableTarget(name: name, dependencies: ["CLibFuzzer", "FuzzSupport"] + dependencies)
}

let package = Package(
    name: "mariadb-tls-proxy-fuzz",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "mariadb-tls-proxy", path: ".."),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.80.0"),
    ],
    targets: [
        // Declares libFuzzer's LLVMFuzzerRunDriver (header only; the runtime comes with -sanitize=fuzzer).
        .target(name: "CLibFuzzer"),
        // Shared helpers: byte decoding, captured packets, the sample policy.
        .target(name: "FuzzSupport", dependencies: [project("MariaDBWire"), project("AccessPolicy"), nioCore]),
        // One connection without channels (the login machine and the relay's interceptor), for the stream targets.
        .target(
            name: "FuzzConnection",
            dependencies: [project("MariaDBWire"), project("AccessPolicy"), project("ProxyServer"), nioCore]
        ),
        fuzzTarget(
            "FuzzClientStream",
            [
                "FuzzConnection", project("MariaDBWire"), project("AccessPolicy"), project("ProxyTLS"),
                project("ProxyServer"), nioCore,
            ]
        ),
        fuzzTarget(
            "FuzzBackendStream",
            [
                "FuzzConnection", project("MariaDBWire"), project("AccessPolicy"), project("ProxyTLS"),
                project("ProxyServer"), nioCore,
            ]
        ),
        fuzzTarget("FuzzOptionFile", [project("ProxyConfiguration")]),
        fuzzTarget("FuzzAccountsFile", [project("AccessPolicy")]),
    ]
)
