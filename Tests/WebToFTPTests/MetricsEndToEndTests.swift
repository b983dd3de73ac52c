import Foundation
import Glibc
@_spi(Internals) import Reactor
@_spi(Internals) import TLS
@_spi(Internals) import TestSupport
import Testing

/// `promtool ARGUMENTS` with `input` on stdin: its status and what it said. A missing promtool fails the test:
/// scripts/install-deps.sh installs it (Debian package prometheus).
func promtool(_ arguments: [String], input: String? = nil) throws -> (status: Int32, output: String) {
    let path = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        .map { "\($0)/promtool" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    guard let path else {
        throw TestFailure("promtool is not installed: scripts/install-deps.sh installs it (Debian package prometheus)")
    }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    let stdin = Pipe()
    let out = Pipe()
    process.standardInput = stdin
    process.standardOutput = out
    process.standardError = out
    try process.run()
    if let input { stdin.fileHandleForWriting.write(Data(input.utf8)) }
    try stdin.fileHandleForWriting.close()
    let said = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: said, as: UTF8.self))
}

/// A Pushgateway stand-in: on 127.0.0.1, reads each request whole (head, then a Content-Length body), keeps it, and
/// answers `status` with `body`. A thread of its own, blocking calls: the product under test is another process.
final class CapturingHTTPServer: @unchecked Sendable {
    struct Request: Sendable {
        var head: String
        var body: String
    }

    let port: Int
    private let fd: Int32
    private let answer: String
    private let captured = Locked<[Request]>([])

    init(status: String, body: String = "") throws {
        let listening = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(listening, $0, length) == 0 && listen(listening, 8) == 0
                    && getsockname(listening, $0, &length) == 0
            }
        }
        guard listening >= 0, bound else { throw TestFailure("capturing server: bind/listen failed, errno \(errno)") }
        fd = listening
        port = Int(UInt16(bigEndian: address.sin_port))
        answer =
            "HTTP/1.1 \(status)\r\nContent-Type: text/plain\r\nContent-Length: \(body.utf8.count)\r\n"
            + "Connection: close\r\n\r\n\(body)"
        Thread.detachNewThread { [self] in serve() }
    }

    var requests: [Request] { captured.value }

    /// Stops accepting (shutdown wakes the blocked accept).
    func close() {
        shutdown(fd, Int32(SHUT_RDWR))
        Glibc.close(fd)
    }

    private func serve() {
        while true {
            let connection = accept(fd, nil, nil)
            guard connection >= 0 else { return }
            var bytes: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 65536)
            var request: Request?
            while request == nil {
                let count = read(connection, &buffer, buffer.count)
                guard count > 0 else { break }
                bytes += buffer[..<count]
                request = Self.parse(bytes)
            }
            if let request { captured.withLock { $0.append(request) } }
            _ = answer.withCString { write(connection, $0, strlen($0)) }
            Glibc.close(connection)
        }
    }

    /// The request once its head and its Content-Length body are all there.
    private static func parse(_ bytes: [UInt8]) -> Request? {
        let text = String(decoding: bytes, as: UTF8.self)
        guard let end = text.range(of: "\r\n\r\n") else { return nil }
        let head = String(text[..<end.lowerBound])
        let length =
            head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
            .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
        let body = Array(text[end.upperBound...].utf8)
        guard body.count >= length else { return nil }
        return Request(head: head, body: String(decoding: body.prefix(length), as: UTF8.self))
    }
}

@Suite("--metrics-file and --metrics-push end to end: Prometheus text after real runs, checked by promtool")
struct MetricsEndToEndTests {
    init() throws {
        try TestEnv.require(.nginxHTTP, .vsftpd)
    }

    static let quoted = #"say "hi" \ there"#
    static let quotedLabel = #"source="say \"hi\" \\ there""#

    static func config(withMissing: Bool = true) -> String {
        """
        {"plain": {"URL": "\(http)/small.csv"},
         "say \\"hi\\" \\\\ there": {"URL": "\(http)/small.csv", "PARAMS": {"nrows": 2}, "TARGET": "quoted.csv"}\
        \(withMissing ? ", \"missing\": {\"URL\": \"\(http)/no-such-file.csv\"}" : "")}
        """
    }

    /// The line of `family` for the source whose label is `label`.
    static func sample(_ text: String, _ family: String, _ label: String) -> String? {
        text.split(separator: "\n").first { $0.hasPrefix("\(family){\(label)}") }.map(String.init)
    }

    @Test("a run writes the file (promtool checks it); --only keeps the others' values; a removed source leaves it")
    func file() throws {
        let scenario = try Scenario("metrics-file")
        try scenario.writeConfig(Self.config())
        let environment = scenario.environment.merging(["XDG_STATE_HOME": freshStateHome()]) { $1 }
        let path = scenario.directory + "/web2ftp.prom"
        // A directory that is not there: said before anything runs.
        let nowhere = try scenario.run(
            "sequential", ["--metrics-file", scenario.directory + "/no/such/dir/web2ftp.prom"],
            environment: environment)
        #expect(nowhere.status == 2 && nowhere.error.contains("--metrics-file"), "\(nowhere.error)")
        let before = Date().timeIntervalSince1970
        let first = try scenario.run("sequential", ["--metrics-file", path], environment: environment)
        let after = Date().timeIntervalSince1970
        #expect(first.status == 1, "one source fails: \(first.error)")
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let check = try promtool(["check", "metrics"], input: text)
        #expect(check.status == 0, "promtool: \(check.output)\n\(text)")
        #expect(Self.sample(text, "web2ftp_source_up", #"source="plain""#)?.hasSuffix(" 1") == true, "\(text)")
        #expect(Self.sample(text, "web2ftp_source_up", #"source="missing""#)?.hasSuffix(" 0") == true)
        #expect(Self.sample(text, "web2ftp_source_up", Self.quotedLabel)?.hasSuffix(" 1") == true, "\(text)")
        #expect(Self.sample(text, "web2ftp_source_rows", Self.quotedLabel)?.hasSuffix(" 2") == true)
        #expect(Self.sample(text, "web2ftp_source_rows", #"source="plain""#) == nil, "no transform, no rows")
        let size = try FileManager.default.attributesOfItem(atPath: TestEnv.wwwDirectory + "/small.csv")[.size] as? Int
        #expect(
            Self.sample(text, "web2ftp_source_bytes_uploaded", #"source="plain""#)?.hasSuffix(" \(size ?? -1)") == true)
        #expect(text.contains("web2ftp_run_sources{status=\"published\"} 2\n"))
        #expect(text.contains("web2ftp_run_sources{status=\"failed\"} 1\n"))
        #expect(
            Self.sample(text, "web2ftp_source_last_success_timestamp_seconds", #"source="missing""#)?
                .hasSuffix(" 0") == true)
        let success = Self.sample(text, "web2ftp_source_last_success_timestamp_seconds", #"source="plain""#)
        let seconds = success.flatMap { Double($0.split(separator: " ").last!) } ?? 0
        #expect(seconds >= before - 1 && seconds <= after, "\(success ?? "none")")
        // No secret and no FTP login detail in a file others may read; no temporary file left; 0644.
        #expect(
            !text.contains(TestEnv.ftpPassword) && !text.contains(TestEnv.ftpUser)
                && !text.contains("\(TestEnv.ftpsPort)"))
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? Int) == 0o644)
        let files = try FileManager.default.contentsOfDirectory(atPath: scenario.directory)
        #expect(!files.contains { $0.contains(".tmp-") }, "\(files)")

        // --only plain: the two others keep their values, line for line.
        let second = try scenario.run(
            "sequential", ["--metrics-file", path, "--only", "plain"], environment: environment)
        #expect(second.status == 0, "\(second.error)")
        let kept = try String(contentsOfFile: path, encoding: .utf8)
        #expect(try promtool(["check", "metrics"], input: kept).status == 0)
        for family in [
            "web2ftp_source_up", "web2ftp_source_last_success_timestamp_seconds", "web2ftp_source_duration_seconds",
            "web2ftp_source_rows", "web2ftp_source_attempts",
        ] {
            for label in [#"source="missing""#, Self.quotedLabel] {
                #expect(Self.sample(kept, family, label) == Self.sample(text, family, label), "\(family) \(label)")
            }
        }
        #expect(kept.contains("web2ftp_run_sources{status=\"skipped\"} 2\n"), "\(kept)")
        #expect(kept.contains("web2ftp_run_sources{status=\"unchanged\"} 1\n"))

        // A source removed from the config leaves the file; a dry run writes none.
        try scenario.writeConfig(Self.config(withMissing: false))
        let third = try scenario.run("sequential", ["--metrics-file", path], environment: environment)
        #expect(third.status == 0, "\(third.error)")
        let pruned = try String(contentsOfFile: path, encoding: .utf8)
        #expect(!pruned.contains("missing") && pruned.contains(Self.quotedLabel))
        let dry = try scenario.run(
            "sequential", ["--dry-run", "--metrics-file", scenario.directory + "/dry.prom"], environment: environment)
        #expect(dry.status == 0, "\(dry.error)")
        #expect(!FileManager.default.fileExists(atPath: scenario.directory + "/dry.prom"))
    }

    @Test("--metrics-push PUTs the file's text to URL/metrics/job/web2ftp[/shard/K]; a refused push is a WARN, exit 0")
    func push() throws {
        let scenario = try Scenario("metrics-push")
        try scenario.writeConfig("{\"plain\": {\"URL\": \"\(http)/small.csv\"}}")
        let path = scenario.directory + "/web2ftp.prom"
        let gateway = try CapturingHTTPServer(status: "200 OK")
        defer { gateway.close() }
        let run = try scenario.run(
            "sequential", ["--metrics-file", path, "--metrics-push", "http://127.0.0.1:\(gateway.port)/gw/"])
        #expect(run.status == 0, "\(run.error)")
        let requests = gateway.requests
        #expect(requests.count == 1)
        let lines = requests.first?.head.split(separator: "\r\n").map(String.init) ?? []
        #expect(lines.first == "PUT /gw/metrics/job/web2ftp HTTP/1.1", "\(lines)")
        #expect(lines.contains("Content-Type: text/plain; version=0.0.4"), "\(lines)")
        #expect(requests.first?.body == (try String(contentsOfFile: path, encoding: .utf8)))
        #expect(
            scenario.log.contains(
                "INFO metrics_push url=http://127.0.0.1:\(gateway.port)/gw/metrics/job/web2ftp http_status=200"),
            "\(scenario.log)")

        // A shard run, and a Pushgateway that refuses: the shard's group, a WARN line, the run's own exit code.
        let refusing = try CapturingHTTPServer(status: "400 Bad Request", body: "pushed metrics are invalid\nmore")
        defer { refusing.close() }
        let shard = try scenario.run(
            "sequential", ["--shard", "0/1", "--force", "--metrics-push", "http://127.0.0.1:\(refusing.port)"])
        #expect(shard.status == 0, "\(shard.error)")
        let pushed = refusing.requests.first
        #expect(
            pushed?.head.hasPrefix("PUT /metrics/job/web2ftp/shard/0 HTTP/1.1\r\n") == true, "\(pushed?.head ?? "")")
        #expect(pushed?.body.contains("web2ftp_source_up{source=\"plain\",shard=\"0\",shards=\"1\"} 1\n") == true)
        #expect(try promtool(["check", "metrics"], input: pushed?.body ?? "").status == 0)
        #expect(
            shard.error.contains(
                "WARN metrics_push url=http://127.0.0.1:\(refusing.port)/metrics/job/web2ftp/shard/0 "
                    + "reason=\"HTTP 400: pushed metrics are invalid\""), "\(shard.error)")
    }

    @Test("an https Pushgateway is verified as sources are: trusted through --cacert it takes the PUT; else a WARN")
    func pushOverHTTPS() async throws {
        let thread = try EventLoopThread()
        defer { thread.shutdown() }
        var ports: [String: Int] = [:]
        for certificate in ["server", "selfsigned"] {
            ports[certificate] = try await thread.onLoop { loop in
                let context = try TLSContext(
                    .server(
                        certificateChainFile: "\(TestEnv.directory)/\(certificate).pem",
                        privateKeyFile: "\(TestEnv.directory)/\(certificate).key"))
                return try ScriptedServer(loop: loop, tls: context) { _, _ in
                    [.send("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")]
                }.port
            }
        }
        let scenario = try Scenario("metrics-push-tls")
        try scenario.writeConfig("{\"plain\": {\"URL\": \"\(http)/small.csv\"}}")
        let trusted = try scenario.run(
            "sequential", ["--metrics-push", "https://localhost:\(ports["server"] ?? 0)"])
        #expect(trusted.status == 0, "\(trusted.error)")
        #expect(trusted.error.contains("INFO metrics_push url=https://localhost:"), "\(trusted.error)")
        #expect(trusted.error.contains("http_status=200"))
        let untrusted = try scenario.run(
            "sequential", ["--force", "--metrics-push", "https://localhost:\(ports["selfsigned"] ?? 0)"])
        #expect(untrusted.status == 0, "a failed push leaves the exit code alone: \(untrusted.error)")
        #expect(untrusted.error.contains("WARN metrics_push"), "\(untrusted.error)")
        #expect(untrusted.error.contains("TLS verification of localhost failed"), "\(untrusted.error)")
    }

    @Test("schedule writes the file and pushes after its run, and stays up")
    func schedule() throws {
        let scenario = try Scenario("metrics-schedule")
        try scenario.writeConfig("{\"s\": {\"URL\": \"\(http)/small.csv\"}}")
        let path = scenario.directory + "/web2ftp.prom"
        let gateway = try CapturingHTTPServer(status: "200 OK")
        defer { gateway.close() }
        let process = try scenario.start([
            "schedule", "sequential", "--run-now", "--metrics-file", path, "--metrics-push",
            "http://127.0.0.1:\(gateway.port)",
        ])
        defer { if process.isRunning { process.terminate() } }
        // Blocking waits, as ScheduleTests does: the child runs on its own.
        for _ in 0..<750 where gateway.requests.isEmpty { usleep(20_000) }
        #expect(gateway.requests.count == 1, "no push within 15 s: \(scenario.log)")
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        #expect(text.contains("web2ftp_source_up{source=\"s\"} 1\n"), "\(text)")
        #expect(gateway.requests.first?.body == text)
        #expect(process.isRunning, "the scheduler must stay up")
        process.terminate()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
    }

    @Test("contrib/prometheus/web2ftp-alerts.yml passes promtool check rules")
    func alertRules() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let rules = root.appendingPathComponent("contrib/prometheus/web2ftp-alerts.yml").path
        let check = try promtool(["check", "rules", rules])
        #expect(check.status == 0, "\(check.output)")
        let text = try String(contentsOfFile: rules, encoding: .utf8)
        #expect(text.contains("time() - web2ftp_source_last_success_timestamp_seconds > 26 * 3600"))
    }
}
