// swift-tools-version: 6.0
import PackageDescription

// libFuzzer targets for the parsers, kept out of the main package so that a plain `swift build` never needs the
// fuzzer runtime. Build and run with scripts/fuzz.sh (see ../shared/PLATFORM.md: release + address sanitizer).
let targets = ["FuzzHTTP", "FuzzFTP", "FuzzURL", "FuzzConfig", "FuzzCSV", "FuzzInflate"]

let package = Package(
    name: "web2ftp-fuzz",
    dependencies: [.package(name: "web2ftp", path: "..")],
    targets: targets.map { name in
        .executableTarget(name: name, dependencies: [.product(name: "WebToFTP", package: "web2ftp")])
    },
    swiftLanguageModes: [.v6]
)
