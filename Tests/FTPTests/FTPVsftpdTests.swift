@_spi(Internals) import FTP
import Foundation
@_spi(Internals) import Reactor
@_spi(Internals) import TLS
@_spi(Internals) import TestSupport
import Testing

@Suite("FTP client against the test vsftpd")
struct FTPVsftpdTests {
    init() throws {
        try TestEnv.require(.vsftpd, .vsftpdPlain)
    }

    @Test(
        "explicit FTPS publish into nested new directories, data session resumed",
        arguments: [TLSConfiguration.Version.tls12, .tls13])
    func publishNested(version: TLSConfiguration.Version) async throws {
        let directory = uniqueDirectory("nested") + "/a/b"
        let outcome = try await uploads(
            [plan(directory: directory, name: "data.csv")], configuration: ftpsConfiguration(maximumVersion: version))[
                0]
        let result = try outcome.result.get()
        #expect(result.path == directory + "/data.csv")
        #expect(result.verifiedSize == 10_000 && result.bytes == 10_000 && !result.swapped)
        #expect(outcome.resumed == true)
        let stored = try Data(contentsOf: URL(fileURLWithPath: ftpHome + "/" + directory + "/data.csv"))
        #expect(stored == expectedBytes(10_000))
        // Nothing else is left in the directory: the temporary name is gone.
        #expect(try FileManager.default.contentsOfDirectory(atPath: ftpHome + "/" + directory) == ["data.csv"])
    }

    @Test("an absolute target path works as the server names it")
    func absolutePath() async throws {
        let directory = ftpHome + "/" + uniqueDirectory("abs")
        let outcome = try await uploads([plan(directory: directory, name: "x.csv")])[0]
        #expect(try outcome.result.get().path == directory + "/x.csv")
        #expect(FileManager.default.fileExists(atPath: directory + "/x.csv"))
    }

    @Test("100 MiB streamed with backpressure arrives byte-exact")
    func large() async throws {
        let directory = uniqueDirectory("large")
        let size = 100 * 1024 * 1024
        let outcome = try await uploads([plan(directory: directory, name: "big.bin")], bytes: size, seed: 7)[0]
        #expect(try outcome.result.get().verifiedSize ?? 0 == UInt64(size))
        let stored = try Data(contentsOf: URL(fileURLWithPath: ftpHome + "/" + directory + "/big.bin"))
        #expect(stored.count == size)
        #expect(stored == expectedBytes(size, seed: 7))
        try? FileManager.default.removeItem(atPath: ftpHome + "/" + directory)
    }

    @Test(
        "20 uploads on one control connection, each data connection resuming the control session",
        arguments: [TLSConfiguration.Version.tls12, .tls13])
    func many(version: TLSConfiguration.Version) async throws {
        let directory = uniqueDirectory("many")
        let plans = (1...20).map { plan(directory: directory, name: "file\($0).csv") }
        let outcomes = try await uploads(plans, configuration: ftpsConfiguration(maximumVersion: version), bytes: 2_000)
        #expect(outcomes.count == 20)
        #expect(outcomes.allSatisfy { (try? $0.result.get()) != nil }, "\(outcomes.map(\.result))")
        #expect(outcomes.allSatisfy { $0.resumed == true })
        #expect(try FileManager.default.contentsOfDirectory(atPath: ftpHome + "/" + directory).count == 20)
    }

    @Test("publishing over an existing file replaces it")
    func overwrite() async throws {
        let directory = uniqueDirectory("overwrite")
        _ = try await uploads([plan(directory: directory, name: "x.csv")], bytes: 50_000)
        let second = try await uploads([plan(directory: directory, name: "x.csv")], bytes: 1_234, seed: 3)[0]
        #expect(try second.result.get().bytes == 1_234)
        #expect(
            try Data(contentsOf: URL(fileURLWithPath: ftpHome + "/" + directory + "/x.csv"))
                == expectedBytes(1_234, seed: 3))
    }

    @Test("plain FTP, when asked for by name, publishes too")
    func plain() async throws {
        let directory = uniqueDirectory("plain")
        let outcome = try await uploads(
            [plan(directory: directory, name: "p.csv")], configuration: plainConfiguration())[0]
        #expect(try outcome.result.get().verifiedSize ?? 0 == 10_000)
        #expect(outcome.resumed == nil)
    }

    @Test("a wrong password is a 530, permanent, and the password is nowhere in the message")
    func wrongPassword() async throws {
        var configuration = ftpsConfiguration()
        configuration.password = "not-the-password-xyz"
        let outcome = try await uploads([plan(directory: "x", name: "x.csv")], configuration: configuration)[0]
        guard case .failure(let error) = outcome.result, case .reply(let command, 530, _) = error else {
            Issue.record("expected 530, got \(outcome.result)")
            return
        }
        #expect(command == "PASS ***")
        #expect(!error.isTransient)
        #expect(!"\(error)".contains("not-the-password-xyz"))
    }

    @Test("a target the user cannot write: STOR refused, nothing published")
    func notWritable() async throws {
        let outcome = try await uploads([plan(directory: "/usr/share", name: "w2f-denied.csv")])[0]
        guard case .failure(.reply(let command, let code, _)) = outcome.result else {
            Issue.record("expected a refusal, got \(outcome.result)")
            return
        }
        #expect(command.hasPrefix("STOR /usr/share/"))
        #expect(code == 553 || code == 550)
        #expect(!FileManager.default.fileExists(atPath: "/usr/share/w2f-denied.csv"))
    }

    @Test("a source that fails mid-upload: no file under the final name, the temporary one deleted, the old one kept")
    func abortedUpload() async throws {
        let directory = uniqueDirectory("aborted")
        _ = try await uploads([plan(directory: directory, name: "keep.csv")], bytes: 777, seed: 5)
        let outcome = try await uploads(
            [plan(directory: directory, name: "keep.csv")], bytes: 5_000_000, abortAfter: 1_000_000)[0]
        guard case .failure(let error) = outcome.result else {
            Issue.record("expected a failure, got \(outcome.result)")
            return
        }
        #expect("\(error)".contains("the source failed on purpose"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: ftpHome + "/" + directory) == ["keep.csv"])
        #expect(
            try Data(contentsOf: URL(fileURLWithPath: ftpHome + "/" + directory + "/keep.csv"))
                == expectedBytes(777, seed: 5))
    }

    @Test("an unreachable server is a connect error, worth a retry")
    func unreachable() async throws {
        var configuration = ftpsConfiguration()
        configuration.port = 1
        let outcome = try await uploads([plan(directory: "x", name: "x.csv")], configuration: configuration)[0]
        guard case .failure(let error) = outcome.result, case .connect = error else {
            Issue.record("expected a connect error, got \(outcome.result)")
            return
        }
        #expect(error.isTransient)
    }

    @Test("the server's certificate is checked: without the CA the login never happens")
    func verification() async throws {
        var configuration = ftpsConfiguration()
        configuration.tls = .client()
        let outcome = try await uploads([plan(directory: "x", name: "x.csv")], configuration: configuration)[0]
        guard case .failure(.tls(_, .verificationFailed)) = outcome.result else {
            Issue.record("expected a verification failure, got \(outcome.result)")
            return
        }
    }
}
