// swift-tools-version: 6.0
import PackageDescription

// The benchmark driver, kept out of the main package so that the product stays free of Foundation and of anything
// else: it depends on web2ftp by path. Run it through scripts/bench.sh (README, "Benchmarks").
let package = Package(
    name: "web2ftp-bench",
    dependencies: [.package(name: "web2ftp", path: "..")],
    targets: [
        .executableTarget(
            name: "web2ftp-bench", dependencies: [.product(name: "WebToFTP", package: "web2ftp")]),
    ],
    swiftLanguageModes: [.v6]
)
