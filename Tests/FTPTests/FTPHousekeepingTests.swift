@_spi(Internals) import FTP
import Foundation
@_spi(Internals) import Reactor
@_spi(Internals) import TestSupport
import Testing

@Suite("Temporary names and leftovers")
struct FTPNamesTests {
    @Test("names say who made them and when, and parse back")
    func roundTrip() throws {
        let name = FTPTemporaryName(
            finalName: "sales.2024.csv", kind: .part, host: "db1.example.com", processID: 4242, unixTime: 1_764_192_000)
        #expect(name.name == ".sales.2024.csv.web2ftp-part.db1.example.com.4242.1764192000")
        #expect(FTPTemporaryName(parsing: name.name) == name)
        let odd = FTPTemporaryName(finalName: "x.csv", kind: .backup, host: "we ird/host", processID: 1, unixTime: 2)
        #expect(odd.name == ".x.csv.web2ftp-old.we_ird_host.1.2")
        #expect(FTPTemporaryName(parsing: "sales.csv") == nil)
        #expect(FTPTemporaryName(parsing: ".sales.csv.web2ftp-part.host.notapid.5") == nil)
        #expect(FTPTemporaryName(parsing: ".hidden") == nil)
    }

    @Test("plans carry both names")
    func plans() {
        let plan = FTPPublishPlan.make(
            directory: "/in", finalName: "a.csv", host: "h", processID: 7, unixTime: 100, checkSize: true)
        #expect(plan.temporaryName == ".a.csv.web2ftp-part.h.7.100")
        #expect(plan.backupName == ".a.csv.web2ftp-old.h.7.100")
        #expect(plan.directoriesToCreate == ["/in"])
    }

    @Test("stale parts are deleted, stale backups restored when their file is missing, fresh ones left alone")
    func leftovers() {
        let now: Int64 = 1_000_000
        let day: Int64 = 86_400
        let names = [
            "a.csv", ".a.csv.web2ftp-part.h.1.\(now - 2 * day)", ".a.csv.web2ftp-part.h.2.\(now - 60)",
            ".b.csv.web2ftp-old.h.3.\(now - 2 * day)", ".a.csv.web2ftp-old.h.4.\(now - 2 * day)", "notes.txt",
        ]
        #expect(
            FTPLeftovers.plan(names: names, now: now, olderThanSeconds: day) == [
                .delete(".a.csv.web2ftp-old.h.4.\(now - 2 * day)"),
                .delete(".a.csv.web2ftp-part.h.1.\(now - 2 * day)"),
                .restore(backup: ".b.csv.web2ftp-old.h.3.\(now - 2 * day)", to: "b.csv"),
            ])
    }

    @Test("NLST transcript: EPSV, data, NLST -a, names, 226")
    func listMachine() throws {
        var machine = FTPListMachine(directory: "in", host: "h")
        #expect(machine.start() == [.send(try FTPCommand("EPSV"))])
        #expect(
            machine.handle(.reply(FTPReply(code: 229, lines: ["(|||4000|)"]))) == [
                .openData(port: 4000, announcedHost: nil)
            ])
        #expect(machine.handle(.dataConnected) == [.send(try FTPCommand("NLST", "-a in"))])
        #expect(machine.handle(.reply(FTPReply(code: 150, lines: ["listing"]))) == [])
        #expect(machine.handle(.reply(FTPReply(code: 226, lines: ["done"]))) == [])
        #expect(
            machine.handle(.dataFinished("in/.\r\nin/..\r\nin/a.csv\r\n.a.csv.web2ftp-part.h.1.2\r\n")) == [
                .listed(["a.csv", ".a.csv.web2ftp-part.h.1.2"])
            ])
    }

    @Test(
        "a data connection reset before a 450 is an empty listing (proftpd, missing directory); before a 226 it fails")
    func listDataResetThenReply() throws {
        func listing(then reply: FTPReply, resetFirst: Bool) throws -> [FTPListMachine.Action] {
            var machine = FTPListMachine(directory: "gone", host: "h")
            _ = machine.start()
            _ = machine.handle(.reply(FTPReply(code: 229, lines: ["(|||4000|)"])))
            _ = machine.handle(.dataConnected)
            if resetFirst {
                #expect(machine.handle(.dataFailed("connection reset")) == [])
                return machine.handle(.reply(reply))
            }
            #expect(machine.handle(.reply(reply)) == [])
            return machine.handle(.dataFailed("connection reset"))
        }
        let missing = FTPReply(code: 450, lines: ["No files found"])
        #expect(try listing(then: missing, resetFirst: true) == [.listed([])])
        let complete = FTPReply(code: 226, lines: ["done"])
        for resetFirst in [true, false] {
            #expect(
                try listing(then: complete, resetFirst: resetFirst) == [
                    .failed(.dataConnection(host: "h", reason: "connection reset"))
                ])
        }
        let refused = FTPReply(code: 425, lines: ["Unable to build data connection"])
        #expect(
            try listing(then: refused, resetFirst: true) == [
                .failed(.reply(command: "NLST", code: 425, text: "Unable to build data connection"))
            ])
    }
}

@Suite("FTP housekeeping against the test vsftpd")
struct FTPHousekeepingVsftpdTests {
    init() throws {
        try TestEnv.require(.vsftpd, .vsftpdImplicit)
    }

    @Test("implicit FTPS: TLS from the first byte, data session resumed")
    func implicit() async throws {
        var configuration = ftpsConfiguration()
        configuration.port = TestEnv.ftpsImplicitPort
        configuration.security = .implicitTLS
        let directory = uniqueDirectory("implicit")
        let outcome = try await uploads([plan(directory: directory, name: "i.csv")], configuration: configuration)[0]
        #expect(try outcome.result.get().verifiedSize ?? 0 == 10_000)
        #expect(outcome.resumed == true)
    }

    @Test("listing shows dot-files; old leftovers go, a fresh one of a running peer stays, a lost swap is restored")
    func removeLeftovers() async throws {
        let directory = uniqueDirectory("leftovers")
        _ = try await uploads([plan(directory: directory, name: "kept.csv")], bytes: 100)
        let local = ftpHome + "/" + directory
        let now = Int64(Date().timeIntervalSince1970)
        let stalePart = ".kept.csv.web2ftp-part.otherhost.11.\(now - 3 * 86_400)"
        let freshPart = ".kept.csv.web2ftp-part.otherhost.12.\(now - 30)"
        let staleBackup = ".lost.csv.web2ftp-old.otherhost.13.\(now - 3 * 86_400)"
        for name in [stalePart, freshPart, staleBackup] {
            #expect(FileManager.default.createFile(atPath: local + "/" + name, contents: Data("x".utf8)))
        }
        let (names, steps): ([String], [FTPLeftovers.Step]) = try await onLoop { loop, done in
            FTPSession.connect(loop: loop, configuration: ftpsConfiguration()) { result in
                guard case .success(let session) = result else { return done(.failure(TestFailure("\(result)"))) }
                session.listNames(directory) { listed in
                    guard case .success(let names) = listed else { return done(.failure(TestFailure("\(listed)"))) }
                    session.removeLeftovers(in: directory, now: now) { cleaned in
                        guard case .success(let steps) = cleaned else {
                            return done(.failure(TestFailure("\(cleaned)")))
                        }
                        session.quit { done(.success((names, steps))) }
                    }
                }
            }
        }
        #expect(Set(names) == Set(["kept.csv", stalePart, freshPart, staleBackup]))
        #expect(steps == [.delete(stalePart), .restore(backup: staleBackup, to: "lost.csv")])
        #expect(
            Set(try FileManager.default.contentsOfDirectory(atPath: local)) == Set(["kept.csv", freshPart, "lost.csv"]))
    }
}

@Suite("FTP client against a scripted misbehaving server")
struct FTPScriptedFaultTests {
    /// Publishes `bytes` bytes to a scripted server; returns the result and the commands it saw.
    func publish(
        bytes: Int = 5_000, storeAnswer: String? = nil, existing: [String: [UInt8]] = [:],
        script: @escaping @Sendable (String) -> [ScriptedFTPServer.Step]?
    ) async throws -> (Result<FTPPublishResult, FTPError>, [String], [String: [UInt8]]) {
        try await onLoop { loop, done in
            let server = try ScriptedFTPServer(loop: loop, script: script)
            if let storeAnswer { server.answerStore(with: storeAnswer) }
            for (path, bytes) in existing { server.files[path] = bytes }
            var configuration = plainConfiguration()
            configuration.port = server.port
            configuration.replyTimeoutMS = 2_000
            FTPSession.connect(loop: loop, configuration: configuration) { result in
                guard case .success(let session) = result else {
                    return done(.failure(TestFailure("login: \(result)")))
                }
                loop.keepAlive(session)
                let writer = PatternWriter(pattern: testPattern(seed: 1), total: bytes)
                writer.onFinish = { _, result in
                    session.close()
                    server.close()
                    done(.success((result, server.commands, server.stored)))
                }
                _ = session.upload(plan: plan(directory: "out", name: "f.csv"), delegate: writer)
            }
        }
    }

    /// The error of a publish that failed with a reply `code`; nil, with an issue recorded, for any other outcome.
    func replyFailure(
        _ result: Result<FTPPublishResult, FTPError>, code: Int, sourceLocation: SourceLocation = #_sourceLocation
    ) -> FTPError? {
        guard case .failure(let error) = result, case .reply(_, code, _) = error else {
            Issue.record("expected \(code), got \(result)", sourceLocation: sourceLocation)
            return nil
        }
        return error
    }

    @Test("the scripted server's ordinary path publishes (the baseline for the faults below)")
    func baseline() async throws {
        let (result, commands, stored) = try await publish { _ in nil }
        #expect(try result.get().verifiedSize ?? 0 == 5_000)
        #expect(stored["out/.f.csv.web2ftp-part.test"]?.count == 5_000)
        #expect(commands.contains("RNTO out/f.csv"))
    }

    @Test("452 after the data: the temporary file is deleted, nothing renamed, the error is transient")
    func insufficientStorage() async throws {
        let (result, commands, _) = try await publish(storeAnswer: "452 Insufficient storage space") { _ in nil }
        guard let error = replyFailure(result, code: 452) else { return }
        #expect(error.isTransient)
        #expect(commands.contains("DELE out/.f.csv.web2ftp-part.test"))
        #expect(!commands.contains { $0.hasPrefix("RNTO") })
    }

    @Test("552 is permanent")
    func exceeded() async throws {
        let (result, _, _) = try await publish(storeAnswer: "552 Quota exceeded") { _ in nil }
        guard let error = replyFailure(result, code: 552) else { return }
        #expect(!error.isTransient)
    }

    @Test("a data port nobody listens on: a data-connection error, no STOR sent")
    func dataRefused() async throws {
        let (result, commands, _) = try await publish { command in command == "EPSV" ? [.passiveToNowhere] : nil }
        guard case .failure(.dataConnection) = result else {
            Issue.record("expected a data connection error, got \(result)")
            return
        }
        #expect(!commands.contains { $0.hasPrefix("STOR") })
    }

    @Test("the control connection dropped mid-upload: a transient connection error, nothing renamed")
    func controlDropped() async throws {
        let (result, commands, _) = try await publish(bytes: 2_000_000) { command in
            command.hasPrefix("STOR") ? [.reply("150 go ahead"), .drop] : nil
        }
        guard case .failure(let error) = result else {
            Issue.record("expected a failure, got \(result)")
            return
        }
        #expect(error.isTransient, "\(error)")
        #expect(!commands.contains { $0.hasPrefix("RNTO") })
    }

    @Test("a server that never answers trips the reply timeout")
    func silence() async throws {
        let (result, _, _) = try await publish { command in command.hasPrefix("MKD") ? [] : nil }
        guard case .failure(.timeout(_, let phase, 2_000)) = result else {
            Issue.record("expected a timeout, got \(result)")
            return
        }
        #expect(phase == "MKD out")
    }

    @Test("a server that will not rename over the old file (proftpd without AllowOverwrite): the swap publishes")
    func swapOverExisting() async throws {
        let renames = Locked(0)
        let (result, commands, _) = try await publish(existing: ["/out/f.csv": [1, 2, 3]]) { command in
            guard command == "RNTO out/f.csv" else { return nil }
            let first = renames.withLock { count -> Bool in
                count += 1
                return count == 1
            }
            return first ? [.reply("550 Rename/move failure: File exists")] : nil
        }
        let published = try result.get()
        #expect(published.swapped && published.leftoverBackup == nil)
        #expect(
            commands.suffix(6) == [
                "RNTO out/f.csv", "RNFR out/f.csv", "RNTO out/.f.csv.web2ftp-old.test",
                "RNFR out/.f.csv.web2ftp-part.test",
                "RNTO out/f.csv", "DELE out/.f.csv.web2ftp-old.test",
            ])
    }
}
