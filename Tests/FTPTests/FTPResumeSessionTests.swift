@_spi(Internals) import FTP
import Foundation
@_spi(Internals) import Reactor
@_spi(Internals) import TestSupport
import Testing

/// Writes `bytes` from the offset the upload starts at (`FTPUpload.startsAt`: the REST offset, or 0 after a refusal).
private final class ResumeWriter: FTPUploadDelegate {
    let bytes: [UInt8]
    var position: Int?
    var onFinish: (FTPUpload, Result<FTPPublishResult, FTPError>) -> Void = { _, _ in }

    init(bytes: [UInt8]) { self.bytes = bytes }

    func uploadCanBegin(_ upload: FTPUpload) {
        position = Int(upload.startsAt)
        pump(upload)
    }

    func uploadDidBecomeWritable(_ upload: FTPUpload) { pump(upload) }

    private func pump(_ upload: FTPUpload) {
        guard var position else { return }
        while position < bytes.count && upload.isWritable {
            let end = min(bytes.count, position + 64 * 1024)
            bytes.withUnsafeBytes { upload.write(UnsafeRawBufferPointer(rebasing: $0[position..<end])) }
            position = end
        }
        self.position = position
        if position == bytes.count { upload.finishWriting() }
    }

    func upload(_ upload: FTPUpload, didFinish result: Result<FTPPublishResult, FTPError>) { onFinish(upload, result) }
}

private struct ResumeOutcome: Sendable {
    var result: Result<FTPPublishResult, FTPError>
    var refused: String?
    var startsAt: UInt64
}

/// Publishes `bytes` per `plan`, resuming its temporary file at `restartAt`.
private func resumedUpload(
    _ plan: FTPPublishPlan, bytes: [UInt8], restartAt: UInt64, configuration: FTPSession.Configuration,
    server: (@Sendable (EventLoop) throws -> ScriptedFTPServer)? = nil
) async throws -> (ResumeOutcome, [String], [String: [UInt8]]) {
    try await onLoop(timeoutMS: 60_000) { loop, done in
        var configuration = configuration
        let scripted = try server?(loop)
        if let scripted { configuration.port = scripted.port }
        configuration.replyTimeoutMS = 10_000
        FTPSession.connect(loop: loop, configuration: configuration) { result in
            guard case .success(let session) = result else { return done(.failure(TestFailure("login: \(result)"))) }
            loop.keepAlive(session)
            let writer = ResumeWriter(bytes: bytes)
            loop.keepAlive(writer)
            writer.onFinish = { upload, result in
                let outcome = ResumeOutcome(
                    result: result, refused: upload.restartRefused.map { "\($0)" }, startsAt: upload.startsAt)
                session.quit {
                    let commands = scripted?.commands ?? []
                    let files = scripted?.files ?? [:]
                    scripted?.close()
                    done(.success((outcome, commands, files)))
                }
            }
            _ = session.upload(plan: plan, restartAt: restartAt, delegate: writer)
        }
    }
}

private func data(_ count: Int) -> [UInt8] {
    (0..<count).map { UInt8(truncatingIfNeeded: ($0 &* 2_654_435_761) >> 13) }
}

@Suite("FTP: a resumed upload (REST + STOR) against vsftpd and a scripted server")
struct FTPResumeSessionTests {
    @Test("vsftpd: the temporary file's first bytes kept, the rest appended from REST N, the whole file published")
    func vsftpd() async throws {
        try TestEnv.require(.vsftpd)
        let directory = uniqueDirectory("resume")
        let file = data(3_000_000)
        let cut = 1_048_576
        let resume = plan(directory: directory, name: "r.csv")
        // The interrupted attempt's temporary file: its first bytes, published under the temporary name.
        let first = FTPPublishPlan(
            directory: directory, finalName: resume.temporaryName, temporaryName: ".first.part",
            backupName: ".first.old", checkSize: true)
        let (made, _, _) = try await resumedUpload(
            first, bytes: Array(file[..<1_500_000]), restartAt: 0, configuration: ftpsConfiguration())
        #expect(try made.result.get().bytes == 1_500_000)

        let (outcome, _, _) = try await resumedUpload(
            resume, bytes: file, restartAt: UInt64(cut), configuration: ftpsConfiguration())
        #expect(outcome.refused == nil)
        #expect(outcome.startsAt == UInt64(cut))
        let published = try outcome.result.get()
        #expect(published.bytes == 3_000_000 && published.verifiedSize == 3_000_000)
        let onDisk = try Data(contentsOf: URL(fileURLWithPath: ftpHome + "/" + directory + "/r.csv"))
        #expect(onDisk == Data(file))
        #expect(try FileManager.default.contentsOfDirectory(atPath: ftpHome + "/" + directory) == ["r.csv"])
    }

    @Test("scripted: REST N then STOR appends; REST refused or STOR after REST refused store from zero")
    func scripted() async throws {
        let file = data(200_000)
        let resume = FTPPublishPlan(
            directory: "/out", finalName: "r.csv", temporaryName: ".r.part", backupName: ".r.old", checkSize: true,
            createDirectories: false)
        for refusal in ["none", "REST", "STOR"] {
            let afterRest = Locked(false)
            let (outcome, commands, files) = try await resumedUpload(
                resume, bytes: file, restartAt: 65_536, configuration: plainConfiguration(),
                server: { loop in
                    let server = try ScriptedFTPServer(loop: loop) { command in
                        if command.hasPrefix("REST") {
                            afterRest.withLock { $0 = true }
                            return refusal == "REST" ? [.reply("502 REST not here")] : nil
                        }
                        if command.hasPrefix("STOR"), refusal == "STOR", afterRest.withLock({ $0 }) {
                            afterRest.withLock { $0 = false }
                            return [.reply("451 Append/Restart not permitted, try again")]
                        }
                        return nil
                    }
                    // What the interrupted attempt left: 100,000 bytes, one of them wrong past the checkpoint.
                    var left = Array(file[..<100_000])
                    left[90_000] ^= 0xFF
                    server.files["/out/.r.part"] = left
                    return server
                })
            let published = try outcome.result.get()
            #expect(published.bytes == 200_000 && published.verifiedSize == 200_000, "\(refusal)")
            #expect(outcome.startsAt == (refusal == "none" ? 65_536 : 0), "\(refusal)")
            #expect((outcome.refused != nil) == (refusal != "none"), "\(refusal)")
            #expect(commands.filter { $0.hasPrefix("REST") } == ["REST 65536"], "\(refusal)")
            #expect(files["/out/r.csv"] == file, "\(refusal)")
            #expect(files["/out/.r.part"] == nil, "\(refusal)")
            #expect(commands.filter { $0.hasPrefix("STOR") }.count == (refusal == "STOR" ? 2 : 1), "\(refusal)")
        }
    }
}

@Suite("FTP: a resume refused by proftpd (REST STREAM listed, STOR after REST answered 451)")
struct FTPResumeProftpdTests {
    @Test("proftpd without AllowStoreRestart or AllowOverwrite: DELE, then the whole file from zero, published")
    func refused() async throws {
        try TestEnv.requireServer(port: TestEnv.proftpdPort, "proftpd")
        var configuration = ftpsConfiguration()
        configuration.port = TestEnv.proftpdPort
        let directory = uniqueDirectory("resume-proftpd")
        let file = data(500_000)
        let resume = plan(directory: directory, name: "r.csv")
        let first = FTPPublishPlan(
            directory: directory, finalName: resume.temporaryName, temporaryName: ".first.part",
            backupName: ".first.old", checkSize: true)
        let (made, _, _) = try await resumedUpload(
            first, bytes: Array(file[..<200_000]), restartAt: 0, configuration: configuration)
        #expect(try made.result.get().bytes == 200_000)
        let (outcome, _, _) = try await resumedUpload(
            resume, bytes: file, restartAt: 65_536, configuration: configuration)
        #expect(outcome.refused != nil)
        #expect(outcome.startsAt == 0)
        #expect(try outcome.result.get().verifiedSize ?? 0 == 500_000)
    }
}
