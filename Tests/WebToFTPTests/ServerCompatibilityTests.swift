import Foundation
@_spi(Internals) import TestSupport
import Testing

/// One FTP server of the compatibility run, as scripts/test-servers.sh starts it.
struct FTPServerUnderTest: CustomTestStringConvertible, Sendable {
    let name: String
    let port: Int
    /// The server shows the FTP home as `/` (a chroot or a virtual file system): FTPTARGET is then a path inside it.
    let homeIsRoot: Bool

    var testDescription: String { name }

    /// A scenario publishing into this server: its target directory the FTP user's (the servers write as that user,
    /// pyftpdlib as itself), FTPHOST this server, FTPTARGET inside the home where the server shows the home as `/`.
    func scenario(_ label: String) throws -> (Scenario, [String: String]) {
        try TestEnv.requireServer(port: port, name)
        let scenario = try Scenario("\(label)-\(name)")
        try FileManager.default.createDirectory(atPath: scenario.target, withIntermediateDirectories: true)
        _ = chown(
            scenario.target, getpwnam(TestEnv.ftpUser)?.pointee.pw_uid ?? 0,
            getpwnam(TestEnv.ftpUser)?.pointee.pw_gid ?? 0)
        var environment = scenario.environment
        environment["FTPHOST"] = "localhost:\(port)"
        if homeIsRoot { environment["FTPTARGET"] = "/" + scenario.targetName }
        return (scenario, environment)
    }

    static let all = [
        FTPServerUnderTest(name: "vsftpd", port: TestEnv.ftpsPort, homeIsRoot: false),
        FTPServerUnderTest(name: "proftpd", port: TestEnv.proftpdPort, homeIsRoot: false),
        FTPServerUnderTest(name: "pure-ftpd", port: TestEnv.pureftpdPort, homeIsRoot: true),
        FTPServerUnderTest(name: "pyftpdlib", port: TestEnv.pyftpdlibPort, homeIsRoot: true),
    ]
}

@Suite("FTP server compatibility: the end-to-end run against vsftpd, proftpd, pure-ftpd and pyftpdlib")
struct ServerCompatibilityTests {
    @Test(
        "publishes transformed, passthrough and nested files over explicit FTPS, twice (the second run overwrites)",
        arguments: FTPServerUnderTest.all)
    func endToEnd(server: FTPServerUnderTest) throws {
        let (scenario, environment) = try server.scenario("compat")
        try scenario.writeConfig(
            """
            {
              "dates": {"URL": "\(http)/small.csv", "PARAMS": {"parse_dates": ["date"], "usecols": ["id", "date"]}},
              "large": {"URL": "\(https)/large.csv", "PARAMS": {}},
              "nested": {"URL": "\(http)/chunked/large.csv", "PARAMS": {"sep": ","}, "TARGET": "a/b/{name}.csv"}
            }
            """)
        let large = try String(contentsOfFile: TestEnv.wwwDirectory + "/large.csv", encoding: .utf8)
        for round in 1...2 {
            let run = try scenario.run("parallel", environment: environment)
            #expect(run.status == 0, "\(server.name), run \(round): \(run.error)\n\(scenario.log)")
            #expect(scenario.published("dates.csv") == "id,date\n1,2024-01-31\n2,2024-02-29\n3,2024-12-01\n")
            #expect(scenario.published("large.csv") == large)
            #expect(scenario.published("a/b/nested.csv") == large)
            // Nothing else: no temporary upload or backup left behind, however the server renames.
            #expect(scenario.files == ["a/b/nested.csv", "dates.csv", "large.csv"], "\(server.name), run \(round)")
            #expect(!scenario.log.contains(TestEnv.ftpPassword))
        }
    }

    @Test(
        "a sequential run of six files publishes each at its first attempt: a session whose TLS tickets are spent is replaced before its next data connection (proftpd under TLS 1.3 gives two)",
        arguments: FTPServerUnderTest.all)
    func manyFilesOneWorker(server: FTPServerUnderTest) throws {
        let (scenario, environment) = try server.scenario("compat-many")
        let sources = (1...6).map { "\"f\($0)\": {\"URL\": \"\(http)/small.csv\"}" }
        try scenario.writeConfig("{\(sources.joined(separator: ", "))}")
        let run = try scenario.run("sequential", environment: environment)
        #expect(run.status == 0, "\(server.name): \(run.error)\n\(scenario.log)")
        #expect(scenario.files == (1...6).map { "f\($0).csv" }, "\(server.name)")
        #expect(!scenario.log.contains(" retry "), "\(server.name): a file needed a second attempt\n\(scenario.log)")
    }
}
