import FTP
import Reactor
import TestSupport
import Testing

/// What a session against a scripted server did: the commands the server heard, each result.
private struct ScriptedRun: Sendable {
    var commands: [String]
    var results: [String]
}

/// Logs in to a fresh scripted server (plain FTP), publishes `uploads` files in turn, lists the directory, and quits.
private func scriptedRun(
    uploads: Int, script: @escaping @Sendable (String) -> [ScriptedFTPServer.Step]?
) async throws -> ScriptedRun {
    return try await onLoop { loop, done in
        let server: ScriptedFTPServer
        do {
            server = try ScriptedFTPServer(loop: loop, script: script)
        } catch {
            return done(.failure(TestFailure("\(error)")))
        }
        var configuration = plainConfiguration()
        configuration.port = server.port
        configuration.replyTimeoutMS = 2_000
        FTPSession.connect(loop: loop, configuration: configuration) { result in
            guard case .success(let session) = result else { return done(.failure(TestFailure("login: \(result)"))) }
            loop.keepAlive(session)
            var results: [String] = []
            func finish() {
                session.quit {
                    server.close()
                    done(.success(ScriptedRun(commands: server.commands, results: results)))
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

@Suite("FTP session: EPSV remembered (scripted server)")
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
}
