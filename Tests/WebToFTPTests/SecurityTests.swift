import Foundation
@_spi(Internals) import Reactor
@_spi(Internals) import TLS
@_spi(Internals) import TestSupport
import Testing

/// The security checks of the brief, each end to end through the CLI (the parts are tested alone elsewhere).
@Suite("Security checks, end to end", .serialized)
struct SecurityTests {
    init() throws {
        try TestEnv.require(.nginxHTTPS, .vsftpd)
    }

    /// The log line of `source`'s final failure, or "".
    static func failure(_ log: String, _ source: String) -> String {
        log.split(separator: "\n").first { $0.contains("[\(source)] failed ") }.map(String.init) ?? ""
    }

    @Test(
        """
        TLS verification failures (unknown CA, wrong name, expired) and an https→http redirect stop their source \
        at once: permanent, one connection, a clear reason
        """
    )
    func verificationFailures() async throws {
        let thread = try EventLoopThread()
        defer { thread.shutdown() }
        let directory = TestEnv.directory
        let cases: [(name: String, certificate: String, reason: String)] = [
            ("unknown_ca", "selfsigned", "TLS verification of localhost failed"),
            ("wrong_name", "wrongname", "certificate does not match the name 'localhost'"),
            ("expired", "expired", "certificate has expired"),
            ("downgrade", "server", "redirect refused"),
        ]
        var servers: [(name: String, reason: String, server: LoopBound<ScriptedServer>)] = []
        var sources: [String] = []
        for item in cases {
            let body = Canned.csv("small.csv")
            let server = try await thread.onLoop { loop in
                let context = try TLSContext(
                    .server(
                        certificateChainFile: "\(directory)/\(item.certificate).pem",
                        privateKeyFile: "\(directory)/\(item.certificate).key"))
                return LoopBound(
                    try ScriptedServer(loop: loop, tls: context) { _, _ in
                        item.name == "downgrade"
                            ? [
                                .send(
                                    "HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:\(TestEnv.httpPort)/small.csv\r\n"
                                        + "Content-Length: 0\r\n\r\n"
                                )
                            ]
                            : Canned.serve(body)
                    })
            }
            let port = try await thread.onLoop { _ in server.object.port }
            servers.append((item.name, item.reason, server))
            sources.append("\"\(item.name)\": {\"URL\": \"https://localhost:\(port)/small.csv\"}")
        }
        let scenario = try Scenario("security-tls")
        try scenario.writeConfig(
            "{" + sources.joined(separator: ",")
                + ", \"good\": {\"URL\": \"https://localhost:\(TestEnv.httpsPort)/small.csv\"}}")
        let run = try scenario.run("sequential", ["--retries", "2"])
        let log = scenario.log
        #expect(run.status == 1, "\(log)")
        #expect(scenario.published("good.csv") != nil, "\(log)")
        for (name, reason, server) in servers {
            let line = Self.failure(log, name)
            #expect(line.contains("class=permanent attempts=1") && line.contains(reason), "\(name): \(log)")
            #expect(try await thread.onLoop { _ in server.object.connections } == 1, "\(name) was retried")
            #expect(scenario.published("\(name).csv") == nil)
        }
        #expect(Self.failure(log, "unknown_ca").contains("--cacert"), "the message says what to do")
    }

    @Test(
        """
        an FTPS server whose certificate is not trusted: every source fails at once (class=destination), nothing \
        retried or published, exit 4
        """
    )
    func untrustedFTPServer() throws {
        let scenario = try Scenario("security-ftps")
        try scenario.writeConfig(
            """
            {"a": {"URL": "\(http)/small.csv"}, "b": {"URL": "\(http)/small.csv"}}
            """)
        let run = try scenario.run("sequential", ["--retries", "2"], trustTestCA: false)
        let log = scenario.log
        #expect(run.status == 4, "\(log)")
        for name in ["a", "b"] {
            let line = Self.failure(log, name)
            #expect(
                line.contains("class=destination attempts=0") && line.contains("TLS verification of 127.0.0.1 failed"),
                "\(log)")
        }
        #expect(scenario.files.isEmpty)
    }

    @Test("plain FTP only when asked for: a server without AUTH TLS never sees USER or PASS; with FTPTLS=none it works")
    func plaintextRefused() async throws {
        let thread = try EventLoopThread()
        defer { thread.shutdown() }
        let server = try await thread.onLoop { loop in LoopBound(try ScriptedFTPServer(loop: loop) { _ in nil }) }
        let port = try await thread.onLoop { _ in server.object.port }
        let scenario = try Scenario("security-plain")
        try scenario.writeConfig("{\"a\": {\"URL\": \"\(http)/small.csv\"}}")
        var environment = scenario.environment
        environment["FTPHOST"] = "127.0.0.1:\(port)"
        environment["FTPTARGET"] = "/out"
        let refused = try scenario.run("sequential", ["--retries", "1"], environment: environment)
        let commands = try await thread.onLoop { _ in server.object.commands }
        #expect(refused.status == 4, "AUTH TLS refused: the destination is unusable")
        #expect(Self.failure(scenario.log, "a").contains("AUTH TLS"), "\(scenario.log)")
        #expect(!commands.contains { $0.hasPrefix("USER") || $0.hasPrefix("PASS") }, "\(commands)")
        #expect(!commands.isEmpty && commands.allSatisfy { $0 == "AUTH TLS" || $0 == "QUIT" }, "\(commands)")

        environment["FTPTLS"] = "none"
        let allowed = try scenario.run("sequential", environment: environment)
        #expect(allowed.status == 0, "\(scenario.log)")
        #expect(scenario.log.contains("plain"), "plain FTP is called out in the log")
        #expect(try await thread.onLoop { _ in server.object.files["/out/a.csv"] } == Canned.csv("small.csv"))
    }

    @Test(
        """
        CR/LF in names, templates, header values or FTP settings, and path traversal: refused whole before anything \
        runs, printed without the control characters
        """
    )
    func injectionRefused() async throws {
        let thread = try EventLoopThread()
        defer { thread.shutdown() }
        let web = try await thread.onLoop { loop in LoopBound(try ScriptedServer(loop: loop) { _, _ in [.close] }) }
        let port = try await thread.onLoop { _ in web.object.port }
        let url = "http://127.0.0.1:\(port)/x.csv"
        let scenario = try Scenario("security-inject")
        try scenario.writeConfig(
            """
            {"fine": {"URL": "\(url)"},
             "evil\\r\\nDELE important.csv": {"URL": "\(url)"},
             "t1": {"URL": "\(url)", "TARGET": "x.csv\\r\\nDELE important.csv"},
             "t2": {"URL": "\(url)", "TARGET": "../../etc/cron.d/x.csv"},
             "t3": {"URL": "\(url)", "TARGET": "sub/../../x.csv"},
             "t4": {"URL": "\(url)", "TARGET": "/etc/x.csv"},
             "..": {"URL": "\(url)"},
             "h1": {"URL": "\(url)", "HEADERS": {"X-A": "v\\r\\nHost: evil.example"}},
             "h2": {"URL": "\(url)", "HEADERS": {"X-A\\r\\nX-B": "v"}},
             "u1": {"URL": "http://127.0.0.1:\(port)/x.csv\\r\\nX-Injected: 1"}}
            """)
        var environment = scenario.environment
        environment["FTPTARGET"] = scenario.target + "\r\nDELE important.csv"
        environment["FTPUSER"] = TestEnv.ftpUser + "\r\nSITE CHMOD 777 /"
        let run = try scenario.run("sequential", environment: environment)
        #expect(run.status == 2)
        for expected in [
            "source \"evil??DELE important.csv\": the name has control characters",
            "source \"t1\": TARGET \"x.csv??DELE important.csv\": has control characters",
            "source \"t2\": TARGET \"../../etc/cron.d/x.csv\": must not contain '..'",
            "source \"t3\": TARGET \"sub/../../x.csv\": must not contain '..'",
            "source \"t4\": TARGET \"/etc/x.csv\": must be relative to FTPTARGET",
            "source \"..\": the name must not contain '..'",
            "source \"h1\": HEADERS.X-A is not a valid header",
            "source \"h2\": HEADERS.X-A??X-B is not a valid header",
            "source \"u1\": invalid URL 'http://127.0.0.1:\(port)/x.csv??X-Injected: 1': "
                + "it contains control characters",
            "FTPTARGET must not contain control characters", "FTPUSER must not contain control characters",
        ] {
            #expect(run.error.contains(expected), "missing: \(expected)\nin: \(run.error)")
        }
        #expect(
            !run.error.unicodeScalars.contains { $0 == "\r" || $0 == "\u{1B}" },
            "a control character reached the terminal")
        #expect(!run.error.split(separator: "\n").contains { $0.hasPrefix("DELE") || $0.hasPrefix("Host:") })
        #expect(try await thread.onLoop { _ in web.object.connections } == 0, "nothing ran")
    }
}
