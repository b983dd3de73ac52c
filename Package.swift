// swift-tools-version: 6.0
import PackageDescription

// The product depends on the Swift standard library, Glibc, the system OpenSSL and zlib only (see ../shared/DESIGN.md):
// no Foundation, no Swift packages. Tests may use Foundation.
let package = Package(
    name: "web2ftp",
    products: [
        .library(name: "WebToFTP", targets: ["WebToFTP"]),
        // The transform alone, standard library only (no OpenSSL, no sockets), for those who want only that.
        .library(name: "CSVStream", targets: ["CSVStream"]),
        .executable(name: "web2ftp", targets: ["web2ftp"]),
    ],
    targets: [
        .target(name: "CLinux"),
        .target(
            name: "COpenSSL",
            linkerSettings: [.linkedLibrary("ssl"), .linkedLibrary("crypto")]
        ),
        // zlib (zlib1g-dev): gzip and deflate sources and transfer codings, imported by Compression only.
        .target(name: "CZlib", linkerSettings: [.linkedLibrary("z")]),
        .target(name: "Compression", dependencies: ["CZlib"]),
        .target(name: "Reactor", dependencies: ["CLinux"]),
        .target(name: "TLS", dependencies: ["Reactor", "COpenSSL"]),
        .target(name: "HTTP1", dependencies: ["Reactor", "TLS"]),
        .target(name: "FTP", dependencies: ["Reactor", "TLS"]),
        .target(name: "CSVStream"),
        // -Osize in release for the config, run and CLI code (no per-byte loops there; same instruction counts under
        // callgrind for a passthrough and a CSV transform): 0.06 MB off the binary. The byte paths keep -O. The other
        // size flags are in scripts/lib/release-flags.sh (README, "Binary size").
        .target(
            name: "WebToFTP", dependencies: ["Reactor", "TLS", "HTTP1", "FTP", "CSVStream", "Compression"],
            swiftSettings: [.unsafeFlags(["-Osize"], .when(configuration: .release))]),
        .executableTarget(
            name: "web2ftp", dependencies: ["WebToFTP"],
            swiftSettings: [.unsafeFlags(["-Osize"], .when(configuration: .release))]),

        // Runs loop scenarios in a process of its own so that tests can count its file descriptors alone.
        .executableTarget(
            name: "web2ftp-fdcheck", dependencies: ["Reactor", "TLS", "HTTP1", "FTP", "TestSupport"],
            path: "Tests/FDCheck"),
        // Streams a large generated CSV through the transformer and reports peak memory (scripts/csv-memory.sh).
        .executableTarget(name: "web2ftp-csvmemcheck", dependencies: ["CSVStream"], path: "Tests/CSVMemCheck"),
        .target(name: "TestSupport", dependencies: ["Reactor", "TLS"], path: "Tests/TestSupport"),
        .testTarget(name: "ReactorTests", dependencies: ["Reactor", "TestSupport"]),
        .testTarget(name: "TLSTests", dependencies: ["TLS", "Reactor", "TestSupport"]),
        .testTarget(name: "HTTP1Tests", dependencies: ["HTTP1", "Reactor", "TLS", "TestSupport"]),
        .testTarget(name: "FTPTests", dependencies: ["FTP", "Reactor", "TLS", "TestSupport"]),
        .testTarget(name: "CSVStreamTests", dependencies: ["CSVStream"]),
        .testTarget(name: "CompressionTests", dependencies: ["Compression"]),
        .testTarget(name: "WebToFTPTests", dependencies: ["WebToFTP", "TestSupport", "web2ftp"]),
        .testTarget(name: "CLITests", dependencies: ["TestSupport", "WebToFTP", "web2ftp", "web2ftp-fdcheck"]),
    ],
    swiftLanguageModes: [.v6]
)
