import Foundation
import Reactor
import Testing
import TestSupport

/// One row of the fault matrix: where the fault sits, what it is, and how the run must end.
struct FaultCase: CustomTestStringConvertible, Sendable {
    enum Side: Sendable {
        /// Between web2ftp and nginx: plain HTTP, or HTTPS (the proxy then sees only ciphertext).
        case http(tls: Bool)
        /// Between web2ftp and vsftpd: plain FTP (the proxy reads the commands and rewrites EPSV/PASV replies so
        /// data connections pass it too), or explicit FTPS (faults by offset only).
        case ftp(tls: Bool)
    }

    enum Expect: Sendable {
        /// Published correctly after this many retries.
        case published(retries: Int)
        /// The source failed; its reason contains this text.
        case failed(String)
    }

    let phase: String
    let side: Side
    let faults: [Fault]
    let expect: Expect
    var file = "large.csv"
    var host: String? = nil
    /// False where the fault takes the FTP server away for every source.
    var otherPublishes = true

    var testDescription: String { "\(phase): \(faults.map(\.description).joined(separator: ", "))" }

    static func row(_ phase: String, _ side: Side, _ faults: [Fault], _ expect: Expect, file: String = "large.csv") -> FaultCase {
        FaultCase(phase: phase, side: side, faults: faults, expect: expect, file: file)
    }

    /// (cut, reset, stall) of one place: each costs the first attempt, the retry publishes.
    static func three(_ phase: String, _ side: Side, _ direction: Fault.Direction, _ trigger: Fault.Trigger,
                      connection: Int = 1, channel: Fault.Channel = .control, retries: Int = 1) -> [FaultCase] {
        [Fault.Kind.cut, .reset, .stall].map { kind in
            row(phase, side, [Fault(kind, direction, at: trigger, connection: connection, channel: channel)],
                .published(retries: retries))
        }
    }

    static let all: [FaultCase] = {
        let http = Side.http(tls: false), https = Side.http(tls: true)
        let ftp = Side.ftp(tls: false), ftps = Side.ftp(tls: true)
        var rows: [FaultCase] = []
        var resolve = row("resolve", http, [], .failed("no-such-host.invalid"))
        resolve.host = "no-such-host.invalid"
        rows.append(resolve)
        rows.append(row("HTTP connect", http, [Fault(.refuse)], .published(retries: 1)))
        rows.append(row("HTTP connect", http, [Fault(.refuse, connection: 0)], .failed("127.0.0.1")))
        rows += three("TLS handshake (HTTPS)", https, .toClient, .offset(0))
        rows += three("TLS handshake (HTTPS)", https, .toClient, .offset(60))
        rows += three("HTTP request", http, .toServer, .offset(5))
        rows += three("HTTP head", http, .toClient, .offset(20))
        rows += three("HTTP body", http, .toClient, .offset(100_000))
        rows += three("HTTPS body", https, .toClient, .offset(100_000))
        rows.append(row("HTTPS body", https, [Fault(.corrupt, .toClient, at: .offset(100_000))], .published(retries: 1)))
        rows.append(row("HTTP head", http, [Fault(.delay(milliseconds: 700), .toClient, at: .offset(0))], .published(retries: 0)))
        rows.append(row("HTTP body", http, [Fault(.drip(milliseconds: 2), .toClient, at: .offset(150))], .published(retries: 0),
                        file: "small.csv"))
        // The run's first FTP session does the leftover check before any source starts: a fault in its connect,
        // login or TLS handshake costs that check (a warning) and the sources log in afresh, with no retry.
        rows.append(row("FTP connect", ftp, [Fault(.refuse)], .published(retries: 0)))
        var down = row("FTP connect", ftp, [Fault(.refuse, connection: 0)], .failed("FTP"))
        down.otherPublishes = false
        rows.append(down)
        rows += three("FTP login", ftp, .toServer, .line("PASS"), retries: 0)
        rows += three("TLS handshake (FTPS control)", ftps, .toClient, .offset(120), retries: 0)
        // The leftover check's listing uses the first EPSV, data connection and 226 of the session; the victim's
        // upload the second.
        rows += three("EPSV", ftp, .toServer, .line("EPSV", occurrence: 2))
        rows.append(row("data connect", ftp, [Fault(.refuse, connection: 2, channel: .data)], .published(retries: 1)))
        rows += three("STOR", ftp, .toServer, .line("STOR"))
        rows += three("upload data", ftp, .toServer, .offset(100_000), connection: 2, channel: .data)
        rows += three("226", ftp, .toClient, .line("226", occurrence: 2))
        rows += three("SIZE", ftp, .toServer, .line("SIZE"))
        rows += three("rename", ftp, .toServer, .line("RNFR"))
        return rows
    }()
}

// Serialized: fifty child processes at once would starve the timing-sensitive tests running alongside.
@Suite("Fault matrix: every phase cut, reset, stalled or refused through a fault-injecting proxy", .serialized)
struct FaultMatrixTests {
    @Test("the run publishes a correct file or nothing, says why, and the other source is unaffected",
          arguments: FaultCase.all)
    func row(_ row: FaultCase) async throws {
        try TestEnv.requireServer(port: TestEnv.httpPort, "nginx (HTTP)")
        try TestEnv.requireServer(port: TestEnv.ftpPort, "vsftpd (plain FTP)")
        try TestEnv.requireServer(port: TestEnv.ftpsPort, "vsftpd (FTPS)")
        let upstream: (port: Int, ftp: Bool)
        switch row.side {
        case .http(let tls): upstream = (tls ? TestEnv.httpsPort : TestEnv.httpPort, false)
        case .ftp(let tls): upstream = (tls ? TestEnv.ftpsPort : TestEnv.ftpPort, !tls)
        }
        let thread = try EventLoopThread()
        defer { thread.shutdown() }
        let faults = row.faults
        let proxyPort: Int = try await withCheckedThrowingContinuation { continuation in
            thread.handle.execute { loop in
                do {
                    let proxy = try FaultProxy(loop: loop, upstreamPort: upstream.port, faults: faults, ftp: upstream.ftp)
                    continuation.resume(returning: proxy.port)
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
        let scenario = try Scenario("fault")
        var environment = scenario.environment
        var victimURL = "\(http)/\(row.file)"
        switch row.side {
        case .http(let tls):
            victimURL = "\(tls ? "https" : "http")://\(row.host ?? (tls ? "localhost" : "127.0.0.1")):\(proxyPort)/\(row.file)"
        case .ftp(let tls):
            environment["FTPHOST"] = "127.0.0.1:\(proxyPort)"
            if !tls { environment["FTPTLS"] = "none" }
        }
        try scenario.writeConfig("""
            {"victim": {"URL": "\(victimURL)", "PARAMS": {}, "TIMEOUT": 2},
             "other": {"URL": "\(http)/small.csv", "PARAMS": {}}}
            """)
        let run = try scenario.run("sequential", ["--retries", "1", "--ftp-timeout", "2"], environment: environment)
        let log = scenario.log
        let retries = log.components(separatedBy: "[victim] retry ").count - 1
        let source = FileManager.default.contents(atPath: TestEnv.wwwDirectory + "/" + row.file)
        let victim = FileManager.default.contents(atPath: scenario.target + "/victim.csv")
        var outcome: String
        switch row.expect {
        case .published(let expected):
            #expect(run.status == 0, "\(log)")
            #expect(victim == source, "victim.csv must be the source, byte for byte")
            #expect(retries == expected, "retries: \(log)")
            outcome = "published after \(retries) retr\(retries == 1 ? "y" : "ies")"
        case .failed(let text):
            #expect(run.status == 1, "\(log)")
            #expect(victim == nil, "nothing under the final name")
            let reason = log.split(separator: "\n").first { $0.contains("[victim] failed ") }.map(String.init) ?? ""
            #expect(reason.contains(text), "\(log)")
            outcome = "failed: " + (reason.components(separatedBy: "reason=").last ?? "").prefix(70)
        }
        // The other source went its own way; nothing temporary is left; no secret leaked.
        #expect((scenario.published("other.csv") != nil) == row.otherPublishes, "the other source: \(log)")
        #expect(scenario.files.allSatisfy { !$0.hasPrefix(".") }, "leftovers: \(scenario.files)")
        #expect(!log.contains(TestEnv.ftpPassword) && !run.error.contains(TestEnv.ftpPassword))
        print("FAULT-MATRIX | \(row.phase) | \(faults.map(\.description).joined(separator: "; ")) | \(outcome) |")
    }
}
