// swift-tools-version: 6.0
import PackageDescription

// One runnable example per layer, built against the library's public API only: a package of its own that depends on
// web2ftp by path, as an embedder's would (inside our package the examples would see more than an embedder does).
// No @_spi import here. Explained in ../docs/library.md; built by .ci/run (scripts/examples.sh).
let package = Package(
    name: "web2ftp-examples",
    dependencies: [.package(name: "web2ftp", path: "..")],
    targets: [
        // Output plumbing the examples share (writing to stdout and stderr); not web2ftp's API.
        .target(name: "ExampleSupport"),
        .executableTarget(
            name: "PipelineExample",
            dependencies: ["ExampleSupport", .product(name: "WebToFTP", package: "web2ftp")]),
        .executableTarget(
            name: "HTTPExample", dependencies: ["ExampleSupport", .product(name: "WebToFTP", package: "web2ftp")]),
        .executableTarget(
            name: "FTPExample", dependencies: ["ExampleSupport", .product(name: "WebToFTP", package: "web2ftp")]),
        // The transform alone: the CSVStream product, without OpenSSL or sockets.
        .executableTarget(
            name: "CSVExample", dependencies: ["ExampleSupport", .product(name: "CSVStream", package: "web2ftp")]),
        // The README's "Embedding" snippet as written, extracted by scripts/examples.sh (do not edit here).
        .executableTarget(
            name: "ReadmeEmbedding", dependencies: [.product(name: "WebToFTP", package: "web2ftp")]),
        // The README's second snippet, the layers on their own, async: an HTTP body as an AsyncSequence, the CSV
        // transform over it, the async FTP upload (extracted likewise).
        .executableTarget(name: "ReadmeLayers", dependencies: [.product(name: "WebToFTP", package: "web2ftp")]),
    ],
    swiftLanguageModes: [.v6]
)
