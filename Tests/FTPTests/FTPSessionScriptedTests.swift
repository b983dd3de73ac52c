@_spi(Internals) import FTP
@_spi(Internals) import Reactor
@_spi(Internals) import TestSupport
import Testing

/// What a session against a scripted server did: the commands the server heard, the trace lines, each result.
private struct ScriptedRun: Sendable {
    var commands: [String]
    var trace: [String]
    var results: [String]
}

/// Logs in to a fresh scripted server (plain FTP), publishes `uploads` files in turn, lists the directory, and quits.
private func scriptedRun(
    uploads: Int, password: String = "pw", script: @escaping @Sendable (String) -> [ScriptedFTPServer.Step]?
) async throws -> ScriptedRun {
    let lines = Locked<[String]>([])
    return try await onLoop { loop, done in
        let server: ScriptedFTPServer
        do {
            server = try ScriptedFTPServer(loop: loop, script: script)
        } catch {
            return done(.failure(TestFailure("\(error)")))
        }
        var configuration = plainConfiguration()
        configuration.port = server.port
        configuration.password = password
        configuration.replyTimeoutMS = 2_000
        configuration.trace = ProtocolTrace { connection, direction, line in
            lines.withLock { $0.append("\(connection) \(direction.rawValue) \(line)") }
        }
        FTPSession.connect(loop: loop, configuration: configuration) { result in
            guard case .success(let session) = result else { return done(.failure(TestFailure("login: \(result)"))) }
            loop.keepAlive(session)
            var results: [String] = []
            func finish() {
                session.quit {
                    server.close()
                    done(.success(ScriptedRun(commands: server.commands, trace: lines.value, results: results)))
                }
            }
            func next(_ index: Int) {
                guard index < uploads else {
                    return session.listNames("out") { listed in
                        results.append("\(listed.map { $0.sorted() })")
                        finish()
                    }
                }
                let writer = PatternWriter(pattern: testPattern(seed: 1), total: 1_000)
                writer.onFinish = { _, result in
                    results.append("\(result.map(\.path))")
                    next(index + 1)
                }
                _ = session.upload(
                    plan: plan(directory: "out", name: "f\(index).csv", checkSize: false), delegate: writer)
            }
            next(0)
        }
    }
}

@Suite("FTP session: EPSV remembered, protocol trace (scripted server)")
struct FTPSessionScriptedTests {
    @Test("a server that refuses EPSV is asked once: the second upload and the listing go straight to PASV")
    func epsvRemembered() async throws {
        let run = try await scriptedRun(uploads: 2) { command in
            command == "EPSV" ? [.reply("500 EPSV not understood")] : nil
        }
        #expect(
            run.results == ["success(\"out/f0.csv\")", "success(\"out/f1.csv\")", "success([\"f0.csv\", \"f1.csv\"])"])
        #expect(run.commands.filter { $0 == "EPSV" || $0 == "PASV" } == ["EPSV", "PASV", "PASV", "PASV"])
    }

    @Test("a server with EPSV keeps getting EPSV")
    func epsvKept() async throws {
        let run = try await scriptedRun(uploads: 2) { _ in nil }
        #expect(run.commands.filter { $0 == "EPSV" || $0 == "PASV" } == ["EPSV", "EPSV", "EPSV"])
    }

    @Test("the trace has every command and every reply line, under one connection number, the password masked")
    func trace() async throws {
        let secret = "s3cret-Pa55"
        let run = try await scriptedRun(uploads: 1, password: secret) { _ in nil }
        let numbers = Set(run.trace.map { $0.prefix { $0 != " " } })
        #expect(numbers.count == 1)
        let lines = run.trace.map { String($0.drop { $0 != " " }.dropFirst()) }
        #expect(
            Array(lines.prefix(13)) == [
                "< 220 scripted server ready", "> USER \(TestEnv.ftpUser)", "< 331 password please", "> PASS ***",
                "< 230 logged in", "> FEAT", "< 211-Features:", "<  SIZE", "<  EPSV", "<  REST STREAM", "< 211 End",
                "> TYPE I", "< 200 binary",
            ])
        #expect(lines.contains("> STOR out/.f0.csv.web2ftp-part.test"))
        #expect(lines.contains("< 150 go ahead"))
        #expect(lines.contains("> NLST -a out"))
        #expect(lines.suffix(1) == ["> QUIT"])
        // What the server heard, in order, is what the trace says was sent.
        #expect(
            lines.filter { $0.hasPrefix("> ") }.map { String($0.dropFirst(2)) }
                == run.commands.map {
                    $0.hasPrefix("PASS ") ? "PASS ***" : $0
                })
        #expect(!run.trace.contains { $0.contains(secret) })
    }
}

@Suite("FTP upload: a transfer cut short still waits for its final reply no longer than the reply timeout")
struct FTPUploadCutShortTests {
    @Test("the source fails mid-upload and the server never answers the STOR: the upload fails on the reply timeout")
    func abortedUploadTimesOut() async throws {
        let outcome: String = try await onLoop(timeoutMS: 10_000) { loop, done in
            let server = try ScriptedFTPServer(loop: loop) { command in
                command.hasPrefix("STOR ") ? [.store(answer: nil)] : nil
            }
            var configuration = plainConfiguration()
            configuration.port = server.port
            configuration.replyTimeoutMS = 500
            FTPSession.connect(loop: loop, configuration: configuration) { result in
                guard case .success(let session) = result else { return done(.failure(TestFailure("\(result)"))) }
                loop.keepAlive(session)
                let writer = PatternWriter(pattern: testPattern(seed: 3), total: 100_000, abortAfter: 10_000)
                writer.onFinish = { _, result in
                    server.close()
                    done(.success("\(result)"))
                }
                _ = session.upload(plan: plan(directory: "out", name: "cut.csv", checkSize: false), delegate: writer)
            }
        }
        #expect(outcome.contains("failure"), "\(outcome)")
        #expect(outcome.contains("timeout") || outcome.contains("500"), "\(outcome)")
    }
}

/// Writes `total` bytes of the pattern, then cancels (abort with ABOR) once `cancelAfter` bytes are out.
private final class CancellingWriter: FTPUploadDelegate {
    let cancelAfter: Int
    var written = 0
    var onFinish: (Result<FTPPublishResult, FTPError>) -> Void = { _ in }

    init(cancelAfter: Int) { self.cancelAfter = cancelAfter }

    func uploadCanBegin(_ upload: FTPUpload) { pump(upload) }
    func uploadDidBecomeWritable(_ upload: FTPUpload) { pump(upload) }

    private func pump(_ upload: FTPUpload) {
        let pattern = testPattern(seed: 4)
        while upload.isWritable {
            if written >= cancelAfter { return upload.abort("cancelled", sendABOR: true) }
            pattern.withUnsafeBytes { upload.write($0) }
            written += pattern.count
        }
    }

    func upload(_ upload: FTPUpload, didFinish result: Result<FTPPublishResult, FTPError>) { onFinish(result) }
}

@Suite("FTP upload: a cancel sends ABOR, and both final replies are awaited")
struct FTPUploadCancelTests {
    /// Cancels one upload mid-transfer, then (when it ended) publishes a small file on the same session; returns the
    /// commands the server heard and both results.
    private func cancelThenPublish(
        replyTimeoutMS: Int = 2_000, script: @escaping @Sendable (String) -> [ScriptedFTPServer.Step]?
    ) async throws -> (commands: [String], cancelled: String, next: String) {
        try await onLoop(timeoutMS: 10_000) { loop, done in
            let server = try ScriptedFTPServer(loop: loop, script: script)
            var configuration = plainConfiguration()
            configuration.port = server.port
            configuration.replyTimeoutMS = replyTimeoutMS
            FTPSession.connect(loop: loop, configuration: configuration) { result in
                guard case .success(let session) = result else { return done(.failure(TestFailure("\(result)"))) }
                loop.keepAlive(session)
                let cancelling = CancellingWriter(cancelAfter: 128 * 1024)
                loop.keepAlive(cancelling)
                cancelling.onFinish = { cancelled in
                    let writer = PatternWriter(pattern: testPattern(seed: 1), total: 1_000)
                    loop.keepAlive(writer)
                    writer.onFinish = { _, next in
                        server.close()
                        done(.success((server.commands, "\(cancelled)", "\(next.map(\.path))")))
                    }
                    _ = session.upload(plan: plan(directory: "out", name: "n.csv", checkSize: false), delegate: writer)
                }
                _ = session.upload(
                    plan: plan(directory: "out", name: "cut.csv", checkSize: false), delegate: cancelling)
            }
        }
    }

    @Test("ABOR goes out, the STOR's 426 and the ABOR's 226 are both taken, then DELE; the session goes on")
    func answered() async throws {
        let run = try await cancelThenPublish { command in
            if command.hasPrefix("STOR ") && command.contains("cut.csv") {
                return [.store(answer: "426 Connection closed; transfer aborted.")]
            }
            if command == "ABOR" { return [.reply("226 ABOR command successful.")] }
            return nil
        }
        #expect(run.cancelled.contains("aborted: cancelled"), "\(run.cancelled)")
        let abor = run.commands.firstIndex(of: "ABOR")
        let dele = run.commands.firstIndex { $0.hasPrefix("DELE ") && $0.contains(".cut.csv") }
        #expect(abor != nil && dele != nil && abor! < dele!, "\(run.commands)")
        // Had the ABOR's 226 been left over, the next upload's first command would have taken it for its answer.
        #expect(run.next == "success(\"out/n.csv\")", "\(run.next)")
    }

    @Test("an ABOR the server never answers fails the upload on the reply timeout instead of holding it")
    func unanswered() async throws {
        let run = try await cancelThenPublish(replyTimeoutMS: 500) { command in
            if command.hasPrefix("STOR ") && command.contains("cut.csv") {
                return [.store(answer: "426 Connection closed; transfer aborted.")]
            }
            if command == "ABOR" { return [] }
            return nil
        }
        #expect(run.cancelled.contains("timeout") || run.cancelled.contains("500"), "\(run.cancelled)")
    }
}
