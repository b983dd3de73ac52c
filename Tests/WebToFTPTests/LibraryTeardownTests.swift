import Foundation
@_spi(Internals) import Reactor
@_spi(Internals) import TestSupport
import Testing
@_spi(Internals) import WebToFTP

@Suite("What Web2FTP.run leaves behind")
struct LibraryTeardownTests {
    /// A plain FTP server on a thread of its own, and the FTP side that reaches it.
    private static func ftpServer() async throws -> (EventLoopThread, LoopBound<ScriptedFTPServer>, FTPEnvironment) {
        let thread = try EventLoopThread()
        let server = try await thread.onLoop { loop in LoopBound(try ScriptedFTPServer(loop: loop) { _ in nil }) }
        let port = try await thread.onLoop { _ in server.object.port }
        let ftp = try FTPEnvironment(
            host: "127.0.0.1", port: port, user: "u", password: "p", targetDirectory: "/out", security: .none)
        return (thread, server, ftp)
    }

    /// Polls the server's open control connections for up to two seconds (it hears the QUIT's close a moment late).
    private static func openSessions(_ thread: EventLoopThread, _ server: LoopBound<ScriptedFTPServer>) async throws
        -> Int
    {
        for _ in 0..<100 {
            if try await thread.onLoop({ _ in server.object.openSessions }) == 0 { return 0 }
            try await Task.sleep(for: .milliseconds(20))
        }
        return try await thread.onLoop { _ in server.object.openSessions }
    }

    @Test("a parallel run returns with every pooled FTP session closed")
    func pooledSessionsClosed() async throws {
        try TestEnv.require(.nginxHTTP)
        let (thread, server, ftp) = try await Self.ftpServer()
        defer { thread.shutdown() }
        let sources = try (1...4).map { number in
            try SourceConfig(name: "s\(number)", url: HTTPURL("\(http)/small.csv"))
        }
        let options = try RunOptions(mode: .parallel, workers: 2)
        let summary = try await Web2FTP.run(sources: sources, ftp: ftp, options: options)
        #expect(summary.succeeded.count == 4)
        #expect(try await thread.onLoop { _ in server.object.sessionsOpened } >= 1)
        #expect(try await Self.openSessions(thread, server) == 0)
        #expect(try await thread.onLoop { _ in server.object.commands.filter { $0 == "QUIT" }.count } >= 1)
    }

    @Test("a cancelled run returns with every FTP session closed, the stalled source's included")
    func cancelledRunClosesSessions() async throws {
        try TestEnv.require(.nginxHTTP)
        let (thread, server, ftp) = try await Self.ftpServer()
        defer { thread.shutdown() }
        let (httpThread, port) = try await scriptedServer { _, _ in
            [
                .send("HTTP/1.1 200 OK\r\nContent-Type: text/csv\r\nContent-Length: 100\r\n\r\nid\n"),
                .pause(milliseconds: 60_000),
            ]
        }
        defer { httpThread.shutdown() }
        let sources = [
            try SourceConfig(name: "fast", url: HTTPURL("\(http)/small.csv")),
            try SourceConfig(name: "stall", url: HTTPURL("http://127.0.0.1:\(port)/s.csv")),
        ]
        let options = try RunOptions(mode: .parallel, workers: 2)
        let started = LockedValue(false)
        let run = Task {
            try await Web2FTP.run(
                sources: sources, ftp: ftp, options: options,
                observer: { event in if event.name == "published" { started.withLock { $0 = true } } })
        }
        for _ in 0..<250 where !started.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(20)) }
        run.cancel()
        let summary = try await run.value
        #expect(summary.succeeded.map(\.name) == ["fast"] && summary.failed.map(\.name) == ["stall"])
        #expect(try await Self.openSessions(thread, server) == 0)
    }
}
