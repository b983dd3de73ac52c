import Foundation
@_spi(Internals) import Reactor
@_spi(Internals) import TestSupport
import Testing
@_spi(Internals) import WebToFTP

/// Issue #17: a dead FTP destination costs one login, not one per source; the run exits 4.
@Suite("A dead FTP destination is not hammered", .serialized)
struct DeadDestinationTests {
    static let sixSources =
        "{" + (1...6).map { "\"s\($0)\": {\"URL\": \"\(http)/small.csv\"}" }.joined(separator: ", ") + "}"

    /// A scripted plain-FTP server on a thread of its own, and the scenario's environment pointed at it.
    static func scripted(
        _ scenario: Scenario, _ script: @escaping @Sendable (String) -> [ScriptedFTPServer.Step]?
    ) async throws -> (EventLoopThread, LoopBound<ScriptedFTPServer>, [String: String]) {
        let thread = try EventLoopThread()
        let server = try await thread.onLoop { loop in LoopBound(try ScriptedFTPServer(loop: loop, script: script)) }
        let port = try await thread.onLoop { _ in server.object.port }
        var environment = scenario.environment
        environment["FTPHOST"] = "127.0.0.1:\(port)"
        environment["FTPTLS"] = "none"
        environment["FTPTARGET"] = "/out"
        return (thread, server, environment)
    }

    @Test(
        "a wrong password, 6 sources, 4 workers: exactly one login, every source class=destination, exit 4; --dry-run too",
        arguments: [[], ["--dry-run"]])
    func wrongPassword(extra: [String]) async throws {
        try TestEnv.require(.nginxHTTP)
        let scenario = try Scenario("dead-530")
        let (thread, server, environment) = try await Self.scripted(scenario) { command in
            command.hasPrefix("PASS") ? [.reply("530 Login incorrect.")] : nil
        }
        defer { thread.shutdown() }
        try scenario.writeConfig(Self.sixSources)
        let run = try scenario.run("parallel", ["--workers", "4", "--retries", "2"] + extra, environment: environment)
        let log = scenario.log
        #expect(run.status == 4, "\(log)")
        let commands = try await thread.onLoop { _ in server.object.commands }
        #expect(commands.filter { $0.hasPrefix("PASS") }.count == 1, "\(commands)")
        #expect(try await thread.onLoop { _ in server.object.sessionsOpened } == 1)
        for index in 1...6 {
            let line = SecurityTests.failure(log, "s\(index)")
            #expect(line.contains("class=destination") && line.contains("530 Login incorrect."), "\(log)")
        }
        #expect(log.contains("ERROR ftp_login reason=") && log.contains("destination=unusable"), "\(log)")
        #expect(!log.contains(" retry "), "nothing is retried: \(log)")
        if extra.isEmpty {
            let sources = try #require(scenario.summary?["sources"] as? [[String: Any]])
            #expect(sources.count == 6 && sources.allSatisfy { $0["class"] as? String == "destination" })
        }
    }

    @Test("vsftpd with a certificate the run does not trust: one connection, exit 4")
    func untrustedCertificate() async throws {
        try TestEnv.require(.nginxHTTP, .vsftpd)
        let thread = try EventLoopThread()
        defer { thread.shutdown() }
        // A fault-free proxy in front of vsftpd, to count the control connections.
        let proxy = try await thread.onLoop { loop in
            LoopBound(try FaultProxy(loop: loop, upstreamPort: TestEnv.ftpsPort, faults: []))
        }
        let port = try await thread.onLoop { _ in proxy.object.port }
        let scenario = try Scenario("dead-tls")
        try scenario.writeConfig(Self.sixSources)
        var environment = scenario.environment
        environment["FTPHOST"] = "127.0.0.1:\(port)"
        let run = try scenario.run("parallel", ["--retries", "2"], environment: environment, trustTestCA: false)
        #expect(run.status == 4, "\(scenario.log)")
        #expect(try await thread.onLoop { _ in proxy.object.connections[.control] } == 1)
        #expect(SecurityTests.failure(scenario.log, "s3").contains("class=destination attempts=0"), "\(scenario.log)")
    }

    @Test("a 530 to a later login (a per-user session limit) is not fatal: the run goes on with fewer sessions")
    func laterRefusal() async throws {
        try TestEnv.require(.nginxHTTP)
        let scenario = try Scenario("later-530")
        let logins = Locked(0)
        let (thread, server, environment) = try await Self.scripted(scenario) { command in
            guard command.hasPrefix("PASS") else { return nil }
            let count = logins.withLock { count -> Int in
                count += 1
                return count
            }
            return count <= 2
                ? nil : [.reply("530 Sorry, the maximum number of clients (2) for this user are already connected.")]
        }
        defer { thread.shutdown() }
        try scenario.writeConfig(Self.sixSources)
        let run = try scenario.run("parallel", ["--workers", "4"], environment: environment)
        let log = scenario.log
        #expect(run.status == 0, "\(log)")
        let files = try await thread.onLoop { _ in server.object.files }
        #expect((1...6).allSatisfy { files["/out/s\($0).csv"] == Canned.csv("small.csv") }, "\(files.keys.sorted())")
        #expect(log.contains("WARN ftp_login reason=") && log.contains("run=\"goes on\""), "\(log)")
        #expect(logins.value >= 3, "the limit was reached")
    }

    @Test("schedule: a run with a dead destination is logged and the scheduler stays up")
    func scheduleStaysUp() async throws {
        try TestEnv.require(.nginxHTTP)
        let scenario = try Scenario("dead-schedule")
        let (thread, server, environment) = try await Self.scripted(scenario) { command in
            command.hasPrefix("PASS") ? [.reply("530 Login incorrect.")] : nil
        }
        defer { thread.shutdown() }
        try scenario.writeConfig(Self.sixSources)
        let process = try scenario.start(["schedule", "parallel", "--run-now"], environment: environment)
        // Blocking waits, as the other schedule test does: an await could resume too late.
        for _ in 0..<300 where !scenario.log.contains(" summary sources=6 ") { usleep(20_000) }
        usleep(300_000)
        #expect(process.isRunning, "the scheduler must stay up: \(scenario.log)")
        process.terminate()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(scenario.log.contains("destination=unusable"), "\(scenario.log)")
        #expect(SecurityTests.failure(scenario.log, "s6").contains("class=destination"), "\(scenario.log)")
        #expect(try await thread.onLoop { _ in server.object.commands }.filter { $0.hasPrefix("PASS") }.count == 1)
    }

    @Test("Web2FTP.run: the summary tells a dead destination (destinationUnusable, class destination)")
    func library() async throws {
        try TestEnv.require(.nginxHTTP)
        let scenario = try Scenario("dead-library")
        let (thread, server, environment) = try await Self.scripted(scenario) { command in
            command.hasPrefix("PASS") ? [.reply("530 Login incorrect.")] : nil
        }
        defer { thread.shutdown() }
        var (sources, _, options) = try scenario.libraryRun(Self.sixSources)
        options.mode = .parallel
        let ftp = try FTPEnvironment.load(environment)
        let summary = try await Web2FTP.run(sources: sources, ftp: ftp, options: options)
        #expect(summary.destinationUnusable)
        #expect(summary.failed.count == 6 && summary.succeeded.isEmpty)
        for outcome in summary.failed {
            guard case .failure(let failure) = outcome.result else { continue }
            #expect(failure.destinationUnusable && failure.failureClass == "destination")
        }
        #expect(try await thread.onLoop { _ in server.object.commands }.filter { $0.hasPrefix("PASS") }.count == 1)
    }
}
