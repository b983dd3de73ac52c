import Foundation
@_spi(Internals) import Reactor
@_spi(Internals) import TLS
@_spi(Internals) import TestSupport
import Testing

// Serialized: sixty child processes at once would starve the timing-sensitive tests running alongside.
@Suite("Fault matrix: every phase cut, reset, stalled or refused, and servers that misbehave", .serialized)
struct FaultMatrixTests {
    /// Where the victim's traffic goes for one row, and how to see what landed on the FTP side afterwards.
    struct Stage {
        var victimURL: String
        var environment: [String: String]
        /// The scripted FTP server both sources publish to, if the row has one (else vsftpd's disk).
        var ftpServer: LoopBound<ScriptedFTPServer>?
    }

    @Test(
        "the run publishes a correct file or nothing, says why, leaks nothing, and the other source is unaffected",
        arguments: FaultCase.all)
    func row(_ row: FaultCase) async throws {
        try TestEnv.require(.nginxHTTP, .vsftpdPlain, .vsftpd)
        let thread = try EventLoopThread()
        defer { thread.shutdown() }
        let scenario = try Scenario("fault")
        let stage = try await Self.stage(row, on: thread, scenario: scenario)
        try scenario.writeConfig(
            """
            {"victim": {"URL": "\(stage.victimURL)", "PARAMS": {}, "TIMEOUT": 2},
             "other": {"URL": "\(http)/small.csv", "PARAMS": {}}}
            """)
        let run = try scenario.run(row.mode, ["--retries", "1", "--ftp-timeout", "2"], environment: stage.environment)
        let log = scenario.log
        let retries = log.components(separatedBy: "[victim] retry ").count - 1
        let source = FileManager.default.contents(atPath: TestEnv.wwwDirectory + "/" + row.file)
        let landed = try await Self.landed(stage, scenario: scenario, on: thread)
        var outcome: String
        switch row.expect {
        case .published(let expected):
            #expect(run.status == 0, "\(log)")
            #expect(landed.victim == source, "victim.csv must be the source, byte for byte")
            #expect(retries == expected, "retries: \(log)")
            outcome = "published after \(retries) retr\(retries == 1 ? "y" : "ies")"
        case .failed(let text):
            #expect(run.status == row.failedStatus, "\(log)")
            #expect(landed.victim == nil, "nothing under the final name")
            let reason = log.split(separator: "\n").first { $0.contains("[victim] failed ") }.map(String.init) ?? ""
            #expect(reason.contains(text), "\(log)")
            if let failedClass = row.failedClass { #expect(reason.contains("class=\(failedClass) "), "\(log)") }
            outcome =
                "failed after \(retries) retr\(retries == 1 ? "y" : "ies"): "
                + (reason.components(separatedBy: "reason=").last ?? "").prefix(90)
        }
        // The other source went its own way; nothing temporary is left; no descriptor outlived the run (the CLI
        // counts its own at the start and end of the run); no secret leaked.
        #expect(landed.other == row.otherPublishes, "the other source: \(log)")
        #expect(landed.leftovers.isEmpty, "leftovers: \(landed.leftovers)")
        let process = scenario.summary?["process"] as? [String: Any]
        let fds = (process?["open_fds_start"] as? Int, process?["open_fds_end"] as? Int)
        #expect(fds.0 != nil && fds.0 == fds.1, "open descriptors at the run's start and end: \(fds)")
        let summaryText = (try? String(contentsOfFile: scenario.directory + "/summary.json", encoding: .utf8)) ?? ""
        #expect(![log, run.error, summaryText].contains { $0.contains(TestEnv.ftpPassword) }, "the password leaked")
        print("FAULT-MATRIX | \(row.mode) | \(row.phase) | \(row.faultDescription) | \(outcome) |")
    }

    static func stage(_ row: FaultCase, on thread: EventLoopThread, scenario: Scenario) async throws -> Stage {
        var stage = Stage(victimURL: "\(http)/\(row.file)", environment: scenario.environment)
        switch row.side {
        case .http(let tls), .ftp(let tls):
            let onFTP: Bool
            if case .ftp = row.side { onFTP = true } else { onFTP = false }
            let upstream =
                onFTP ? (tls ? TestEnv.ftpsPort : TestEnv.ftpPort) : (tls ? TestEnv.httpsPort : TestEnv.httpPort)
            let faults = row.faults
            let port = try await thread.onLoop { loop in
                try FaultProxy(loop: loop, upstreamPort: upstream, faults: faults, ftp: onFTP && !tls).port
            }
            if onFTP {
                stage.environment["FTPHOST"] = "127.0.0.1:\(port)"
                if !tls { stage.environment["FTPTLS"] = "none" }
            } else {
                let host = row.host ?? (tls ? "localhost" : "127.0.0.1")
                stage.victimURL = "\(tls ? "https" : "http")://\(host):\(port)/\(row.file)"
            }
        case .scriptedHTTP(let tls, let makeScript):
            let script = makeScript()
            let port = try await thread.onLoop { loop in
                let context =
                    tls
                    ? try TLSContext(
                        .server(certificateChainFile: TestEnv.serverCertificate, privateKeyFile: TestEnv.serverKey))
                    : nil
                return try ScriptedServer(loop: loop, tls: context, script: script).port
            }
            stage.victimURL =
                "\(tls || row.httpsToPlain ? "https://localhost" : "http://127.0.0.1"):\(port)/\(row.file)"
        case .scriptedFTP(let makeScript):
            let script = makeScript()
            let server = try await thread.onLoop { loop in LoopBound(try ScriptedFTPServer(loop: loop, script: script))
            }
            let port = try await thread.onLoop { _ in server.object.port }
            stage.ftpServer = server
            stage.environment["FTPHOST"] = "127.0.0.1:\(port)"
            stage.environment["FTPTLS"] = "none"
            stage.environment["FTPTARGET"] = "/out"
        }
        return stage
    }

    /// What is on the FTP side after the run: the victim's bytes, whether the other source is there, and any
    /// temporary (dot) files.
    static func landed(_ stage: Stage, scenario: Scenario, on thread: EventLoopThread) async throws
        -> (victim: Data?, other: Bool, leftovers: [String])
    {
        guard let server = stage.ftpServer else {
            let victim = FileManager.default.contents(atPath: scenario.target + "/victim.csv")
            return (victim, scenario.published("other.csv") != nil, scenario.files.filter { $0.hasPrefix(".") })
        }
        let files = try await thread.onLoop { _ in server.object.files }
        return (
            files["/out/victim.csv"].map { Data($0) }, files["/out/other.csv"] != nil,
            files.keys.filter { $0.contains("/.") }.sorted()
        )
    }
}
