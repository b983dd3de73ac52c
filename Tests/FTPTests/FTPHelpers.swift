@_spi(Internals) import FTP
import Foundation
@_spi(Internals) import Reactor
@_spi(Internals) import TLS
@_spi(Internals) import TestSupport

func ftpsConfiguration(maximumVersion: TLSConfiguration.Version? = nil) -> FTPSession.Configuration {
    var configuration = FTPSession.Configuration(
        host: "127.0.0.1", port: TestEnv.ftpsPort, user: TestEnv.ftpUser, password: TestEnv.ftpPassword)
    configuration.tls = .client(additionalCAFile: TestEnv.caFile, maximumVersion: maximumVersion)
    configuration.replyTimeoutMS = 10_000
    return configuration
}

func plainConfiguration() -> FTPSession.Configuration {
    var configuration = FTPSession.Configuration(
        host: "127.0.0.1", port: TestEnv.ftpPort, user: TestEnv.ftpUser, password: TestEnv.ftpPassword)
    configuration.security = .none
    return configuration
}

var ftpHome: String { TestEnv.directory + "/ftp-home" }

/// A fresh directory name under the FTP user's home, unique per test.
func uniqueDirectory(_ label: String) -> String {
    "\(label)-\(UInt32.random(in: 0...UInt32.max))"
}

func plan(directory: String, name: String, checkSize: Bool = true) -> FTPPublishPlan {
    FTPPublishPlan(
        directory: directory, finalName: name, temporaryName: ".\(name).web2ftp-part.test",
        backupName: ".\(name).web2ftp-old.test", checkSize: checkSize)
}

/// What an upload through the real client gave.
struct UploadOutcome: Sendable {
    var result: Result<FTPPublishResult, FTPError>
    var resumed: Bool?
    var maxPending = 0
}

/// Writes `total` bytes of `pattern` with backpressure; can abort after `abortAfter` bytes.
final class PatternWriter: FTPUploadDelegate {
    let pattern: [UInt8]
    let total: Int
    let abortAfter: Int?
    var written = 0
    var maxPending = 0
    var onFinish: (FTPUpload, Result<FTPPublishResult, FTPError>) -> Void = { _, _ in }

    init(pattern: [UInt8], total: Int, abortAfter: Int? = nil) {
        self.pattern = pattern
        self.total = total
        self.abortAfter = abortAfter
    }

    func uploadCanBegin(_ upload: FTPUpload) { pump(upload) }
    func uploadDidBecomeWritable(_ upload: FTPUpload) { pump(upload) }

    func pump(_ upload: FTPUpload) {
        while written < total && upload.isWritable {
            if let abortAfter, written >= abortAfter { return upload.abort("the source failed on purpose") }
            let count = min(pattern.count, total - written)
            pattern.withUnsafeBytes { upload.write(UnsafeRawBufferPointer(rebasing: $0[..<count])) }
            written += count
        }
        if written == total { upload.finishWriting() }
    }

    func upload(_ upload: FTPUpload, didFinish result: Result<FTPPublishResult, FTPError>) {
        onFinish(upload, result)
    }
}

func testPattern(seed: Int) -> [UInt8] {
    (0..<(64 * 1024)).map { UInt8(truncatingIfNeeded: ($0 &* 131 &+ seed &* 7) >> 3 ^ $0) }
}

/// Logs in once and publishes each plan in turn on that one control connection.
func uploads(
    _ plans: [FTPPublishPlan], configuration: FTPSession.Configuration = ftpsConfiguration(), bytes: Int = 10_000,
    abortAfter: Int? = nil, seed: Int = 1
) async throws -> [UploadOutcome] {
    try await onLoop(timeoutMS: 120_000) { loop, done in
        FTPSession.connect(loop: loop, configuration: configuration) { result in
            let session: FTPSession
            switch result {
            case .failure(let error):
                return done(.success([UploadOutcome(result: .failure(error))]))
            case .success(let connected):
                session = connected
            }
            var outcomes: [UploadOutcome] = []
            func next(_ index: Int) {
                guard index < plans.count else {
                    return session.quit { done(.success(outcomes)) }
                }
                let writer = PatternWriter(pattern: testPattern(seed: seed), total: bytes, abortAfter: abortAfter)
                writer.onFinish = { upload, result in
                    outcomes.append(UploadOutcome(result: result, resumed: upload.dataSessionResumed))
                    next(index + 1)
                }
                _ = session.upload(plan: plans[index], delegate: writer)
            }
            next(0)
        }
    }
}

func expectedBytes(_ count: Int, seed: Int = 1) -> Data {
    let pattern = testPattern(seed: seed)
    var data = Data(capacity: count)
    while data.count < count { data.append(contentsOf: pattern.prefix(count - data.count)) }
    return data
}
