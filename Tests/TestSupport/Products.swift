import Foundation

/// Runs one of the package's executables (built next to the test bundle) and collects what it printed.
public struct ProductRun: Sendable {
    public let status: Int32
    public let output: String
    public let error: String
}

public func runProduct(_ name: String, _ arguments: [String], environment: [String: String] = [:]) throws -> ProductRun
{
    let process = try productProcess(name, arguments, environment: environment)
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    // Read both pipes before waiting, so a chatty child cannot block on a full pipe.
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return ProductRun(
        status: process.terminationStatus, output: String(decoding: outData, as: UTF8.self),
        error: String(decoding: errData, as: UTF8.self))
}

/// Starts one of the package's executables and returns at once, its stderr discarded: for a test that watches or
/// signals the child while it runs, and waits for it itself.
public func startProduct(_ name: String, _ arguments: [String], environment: [String: String] = [:]) throws -> Process {
    let process = try productProcess(name, arguments, environment: environment)
    process.standardError = FileHandle.nullDevice
    try process.run()
    return process
}

/// The path of the executable `name`, built next to the test bundle. `W2F_TEST_WEB2FTP=PATH` stands another build in
/// for web2ftp, e.g. the stripped static binary scripts/install.sh makes, so that the CLI tests can check that one.
public func productPath(_ name: String) throws -> String {
    if name == "web2ftp", let other = ProcessInfo.processInfo.environment["W2F_TEST_WEB2FTP"], !other.isEmpty {
        return other
    }
    let bundle = URL(fileURLWithPath: try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
    return bundle.deletingLastPathComponent().appendingPathComponent(name).path
}

/// The executable `name` (`productPath`), set up with `arguments` and this process's environment overlaid with
/// `environment`.
func productProcess(_ name: String, _ arguments: [String], environment: [String: String]) throws -> Process {
    let executable = URL(fileURLWithPath: try productPath(name))
    guard FileManager.default.isExecutableFile(atPath: executable.path) else {
        throw TestFailure("\(executable.path) is not built: run the tests with `swift test` from the package root")
    }
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    // A state directory of its own unless the test gives one: runs of one config in different tests (or test runs)
    // must not find each other's state file and skip their sources as unchanged.
    process.environment = ProcessInfo.processInfo.environment.merging(["XDG_STATE_HOME": freshStateHome()]) { $1 }
        .merging(environment) { $1 }
    return process
}

/// A directory for one run's state files, not made until the run writes one (the product makes it then): most runs
/// leave nothing behind. scripts/test.sh clears the parent before each test run.
public func freshStateHome() -> String {
    NSTemporaryDirectory() + "web2ftp-test-state/" + UUID().uuidString
}
