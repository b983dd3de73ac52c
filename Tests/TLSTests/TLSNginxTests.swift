import Foundation
@_spi(Internals) import Reactor
@_spi(Internals) import TLS
@_spi(Internals) import TestSupport
import Testing

/// What a TLS request to the test nginx saw.
struct Fetch: Sendable {
    var body = ""
    var resumed = false
    var version = ""
    var end = ""
    var session: TLSSession?
}

/// GETs `path` over TLS with `Connection: close` and reads to the end.
func fetch(
    path: String = "/small.csv", host: String = "127.0.0.1", serverName: String? = nil,
    configuration: TLSConfiguration, session: TLSSession? = nil
) async throws -> Result<Fetch, TLSError> {
    try TestEnv.require(.nginxHTTPS)
    let context = try TLSContext(configuration)
    return try await onLoop { loop, done in
        TLSStream.connect(
            loop: loop, host: host, port: TestEnv.httpsPort, serverName: serverName, context: context, session: session
        ) { result in
            switch result {
            case .failure(let error):
                done(.success(.failure(error)))
            case .success(let stream):
                let recorder = RecordingDelegate()
                loop.keepAlive(recorder)
                stream.delegate = recorder
                recorder.onEnd = { end in
                    var fetch = Fetch()
                    let text = recorder.text
                    fetch.body = text.components(separatedBy: "\r\n\r\n").dropFirst().joined(separator: "\r\n\r\n")
                    fetch.resumed = stream.tls?.sessionResumed == true
                    fetch.version = stream.tls?.version ?? ""
                    fetch.session = stream.resumableSession
                    switch end {
                    case .eof: fetch.end = "eof"
                    case .failed(let error): fetch.end = "\(error)"
                    }
                    stream.close()
                    done(.success(.success(fetch)))
                }
                stream.write("GET \(path) HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            }
        }
    }
}

@Suite("TLS against the test nginx")
struct TLSNginxTests {
    let small = try! String(contentsOfFile: TestEnv.wwwDirectory + "/small.csv", encoding: .utf8)

    @Test("verifies with the test CA added to the system store, by IP address and by DNS name")
    func verifiedWithTestCA() async throws {
        for (host, name) in [("127.0.0.1", nil), ("localhost", nil), ("127.0.0.1", "localhost")] as [(String, String?)]
        {
            let fetch = try await fetch(
                host: host, serverName: name, configuration: .client(additionalCAFile: TestEnv.caFile)
            ).get()
            #expect(fetch.body == small, "host \(host) name \(name ?? host)")
            #expect(fetch.end == "eof", "nginx ends with close_notify")
        }
    }

    @Test("a name the certificate does not carry fails with nameMismatch")
    func nameMismatch() async throws {
        let result = try await fetch(
            serverName: "files.example.com", configuration: .client(additionalCAFile: TestEnv.caFile))
        guard case .failure(.verificationFailed(let host, .nameMismatch(let expected))) = result else {
            Issue.record("expected a name mismatch, got \(result)")
            return
        }
        #expect(host == "files.example.com" && expected == "files.example.com")
        #expect("\(try #require(result.failure))".contains("does not match the name 'files.example.com'"))
    }

    @Test("an IP address the certificate does not carry fails with nameMismatch too")
    func ipMismatch() async throws {
        let result = try await fetch(serverName: "127.0.0.2", configuration: .client(additionalCAFile: TestEnv.caFile))
        guard case .failure(.verificationFailed(_, .nameMismatch)) = result else {
            Issue.record("expected a name mismatch, got \(result)")
            return
        }
    }

    @Test("without the test CA the issuer is unknown, and the message says what to do")
    func unknownCA() async throws {
        let result = try await fetch(configuration: .client())
        guard case .failure(.verificationFailed(_, .unknownCA)) = result else {
            Issue.record("expected an unknown CA, got \(result)")
            return
        }
        #expect("\(try #require(result.failure))".contains("--cacert"))
    }

    @Test("insecure mode, when named, connects without the CA")
    func insecureMode() async throws {
        let fetch = try await fetch(configuration: .client(verification: .insecureNoVerification)).get()
        #expect(fetch.body == small)
    }

    @Test("a CA file that cannot be read is a configuration error naming the file")
    func unreadableCAFile() throws {
        #expect {
            _ = try TLSContext(.client(additionalCAFile: "/nonexistent/ca.pem"))
        } throws: { error in
            guard case TLSError.configuration(let message) = error else { return false }
            return message.contains("/nonexistent/ca.pem")
        }
    }

    @Test("a second connection resumes the first one's session", arguments: [TLSConfiguration.Version.tls12, .tls13])
    func sessionResumption(version: TLSConfiguration.Version) async throws {
        let configuration = TLSConfiguration.client(additionalCAFile: TestEnv.caFile, maximumVersion: version)
        let first = try await fetch(configuration: configuration).get()
        #expect(first.version == (version == .tls12 ? "TLSv1.2" : "TLSv1.3"))
        #expect(!first.resumed)
        let session = try #require(first.session, "no resumable session after the first connection")
        let second = try await fetch(configuration: configuration, session: session).get()
        #expect(second.resumed)
        #expect(second.body == small)
        // And a third from the second's session: the chain of tickets keeps working (many FTP data connections).
        #expect(second.session != nil)
        let third = try await fetch(configuration: configuration, session: second.session).get()
        #expect(third.resumed)
    }

    @Test("transfers larger than a TLS record arrive whole")
    func largeBody() async throws {
        let expected = try Data(contentsOf: URL(fileURLWithPath: TestEnv.wwwDirectory + "/large.csv"))
        let fetch = try await fetch(path: "/large.csv", configuration: .client(additionalCAFile: TestEnv.caFile)).get()
        #expect(fetch.body.utf8.count == expected.count)
        #expect(fetch.body == String(decoding: expected, as: UTF8.self))
    }
}

extension Result {
    var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
