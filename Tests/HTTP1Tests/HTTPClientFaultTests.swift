import Foundation
@_spi(Internals) import HTTP1
@_spi(Internals) import Reactor
@_spi(Internals) import TestSupport
import Testing

/// Downloads `paths` in turn from a scripted server on the same loop; returns the downloads and what the server saw.
func scripted(
    _ paths: [String] = ["/data.csv"], configuration: HTTPClient.Configuration = testClientConfiguration(),
    headers: HTTPHeaders = HTTPHeaders(),
    script: @escaping @Sendable (_ connection: Int, _ request: String) -> [ScriptedServer.Step]
) async throws -> (downloads: [Download], connections: Int, requests: [String]) {
    try await onLoop { loop, done in
        let server = try ScriptedServer(loop: loop, script: script)
        let client = HTTPClient(loop: loop, configuration: configuration)
        var results: [Download] = []
        func next(_ index: Int) {
            guard index < paths.count else {
                client.close()
                server.close()
                return done(.success((results, server.connections, server.requests)))
            }
            let collector = Collector()
            collector.onFinish = {
                results.append($0)
                next(index + 1)
            }
            client.request(
                try! HTTPURL("http://127.0.0.1:\(server.port)\(paths[index])"), headers: headers,
                delegate: collector)
        }
        next(0)
    }
}

let okHead = "HTTP/1.1 200 OK\r\nContent-Type: text/csv\r\n"

@Suite("HTTP client against misbehaving servers")
struct HTTPClientFaultTests {
    @Test("a body shorter than its Content-Length is truncated, never a clean end")
    func shortContentLength() async throws {
        let result = try await scripted { _, _ in [.send(okHead + "Content-Length: 100\r\n\r\n0123456789"), .close] }
        let download = result.downloads[0]
        guard case .truncated(_, let error)? = download.error else {
            Issue.record("expected truncated, got \(String(describing: download.result))")
            return
        }
        #expect(error.detail.contains("after 10 of the 100 bytes"))
        #expect(download.error?.isTransient == true)
    }

    @Test("a chunked body without its last chunk is truncated")
    func shortChunked() async throws {
        let result = try await scripted { _, _ in
            [.send(okHead + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"), .close]
        }
        guard case .truncated? = result.downloads[0].error else {
            Issue.record("expected truncated, got \(String(describing: result.downloads[0].result))")
            return
        }
    }

    @Test("a reset mid-body is a lost connection, worth a retry")
    func resetMidBody() async throws {
        let result = try await scripted { _, _ in
            [.send(okHead + "Content-Length: 100\r\n\r\n0123456789"), .pause(milliseconds: 20), .reset]
        }
        guard case .connectionLost? = result.downloads[0].error else {
            Issue.record("expected connectionLost, got \(String(describing: result.downloads[0].result))")
            return
        }
        #expect(result.downloads[0].error?.isTransient == true)
    }

    @Test("a server that stalls trips the idle timeout")
    func stall() async throws {
        var configuration = testClientConfiguration()
        configuration.idleTimeoutMS = 300
        let result = try await scripted(configuration: configuration) { _, _ in
            [.send(okHead + "Content-Length: 100\r\n\r\n01234"), .hang]
        }
        guard case .timeout(_, .idle, 300)? = result.downloads[0].error else {
            Issue.record("expected an idle timeout, got \(String(describing: result.downloads[0].result))")
            return
        }
    }

    @Test("a total timeout ends a download that trickles on")
    func totalTimeout() async throws {
        var configuration = testClientConfiguration()
        configuration.totalTimeoutMS = 300
        let drip: [ScriptedServer.Step] = (0..<50).flatMap { _ in
            [ScriptedServer.Step.send("x"), .pause(milliseconds: 20)]
        }
        let result = try await scripted(configuration: configuration) { _, _ in
            [.send(okHead + "Content-Length: 1000\r\n\r\n")] + drip
        }
        guard case .timeout(_, .total, 300)? = result.downloads[0].error else {
            Issue.record("expected a total timeout, got \(String(describing: result.downloads[0].result))")
            return
        }
    }

    @Test("503 with Retry-After in seconds, 429 with an HTTP-date: status errors carrying the delay")
    func retryAfter() async throws {
        let result = try await scripted(["/a", "/b"]) { _, request in
            if request.hasPrefix("GET /a") {
                return [.send("HTTP/1.1 503 Service Unavailable\r\nRetry-After: 120\r\nContent-Length: 0\r\n\r\n")]
            }
            return [
                .send(
                    "HTTP/1.1 429 Too Many Requests\r\nRetry-After: Fri, 01 Jan 2100 00:00:00 GMT\r\n"
                        + "Content-Length: 0\r\n\r\n"
                )
            ]
        }
        guard case .status(_, 503, "Service Unavailable", 120)? = result.downloads[0].error else {
            Issue.record("expected 503, got \(String(describing: result.downloads[0].result))")
            return
        }
        #expect(result.downloads[0].error?.isTransient == true)
        guard case .status(_, 429, _, let seconds?)? = result.downloads[1].error else {
            Issue.record("expected 429, got \(String(describing: result.downloads[1].result))")
            return
        }
        #expect(seconds > 365 * 24 * 3600)
    }

    @Test("a header flood is refused")
    func headerFlood() async throws {
        let flood = (0..<500).map { "X-Flood-\($0): v\r\n" }.joined()
        let result = try await scripted { _, _ in [.send(okHead + flood + "\r\n"), .hang] }
        guard case .protocolError(_, let error)? = result.downloads[0].error else {
            Issue.record("expected a protocol error, got \(String(describing: result.downloads[0].result))")
            return
        }
        #expect(error.kind == .tooManyHeaders)
    }

    @Test("an unasked Content-Encoding is refused: compressed bytes are never handed on")
    func contentEncoding() async throws {
        let result = try await scripted { _, _ in
            [.send(okHead + "Content-Encoding: gzip\r\nContent-Length: 4\r\n\r\n"), .bytes([0x1f, 0x8b, 8, 0])]
        }
        guard case .unsupportedContentEncoding(_, "gzip")? = result.downloads[0].error else {
            Issue.record("expected unsupported encoding, got \(String(describing: result.downloads[0].result))")
            return
        }
        #expect(result.downloads[0].body.isEmpty)
    }

    @Test("a kept-alive connection the server dropped is retried once on a fresh one")
    func staleConnection() async throws {
        let result = try await scripted(["/first", "/second"]) { connection, request in
            if connection == 1 && request.hasPrefix("GET /second") { return [.close] }
            return [.send(okHead + "Content-Length: 2\r\n\r\nok")]
        }
        #expect(result.downloads.map { String(decoding: $0.body, as: UTF8.self) } == ["ok", "ok"])
        #expect(result.downloads[1].error == nil)
        #expect(result.connections == 2)
    }

    @Test("a fresh connection that dies before answering is not retried behind the caller's back")
    func noRetryOnFreshConnection() async throws {
        let result = try await scripted { _, _ in [.close] }
        guard case .connectionLost? = result.downloads[0].error else {
            Issue.record("expected connectionLost, got \(String(describing: result.downloads[0].result))")
            return
        }
        #expect(result.connections == 1)
    }

    @Test("Connection: close responses are not pooled; the next request opens a new connection")
    func connectionClose() async throws {
        let result = try await scripted(["/a", "/b"]) { _, _ in
            [.send(okHead + "Connection: close\r\nContent-Length: 1\r\n\r\nx"), .close]
        }
        #expect(result.downloads.allSatisfy { $0.error == nil })
        #expect(result.connections == 2)
    }

    @Test("configured headers and URL credentials go to the first origin only")
    func headersDroppedAcrossOrigins() async throws {
        let seen: [String] = try await onLoop { loop, done in
            let other = try ScriptedServer(loop: loop) { _, _ in [.send(okHead + "Content-Length: 2\r\n\r\nok")] }
            let first = try ScriptedServer(loop: loop) { _, request in
                if request.hasPrefix("GET /same") {
                    return [.send("HTTP/1.1 302 Found\r\nLocation: /next\r\nContent-Length: 0\r\n\r\n")]
                }
                if request.hasPrefix("GET /next") {
                    return [
                        .send(
                            "HTTP/1.1 302 Found\r\nLocation: http://localhost:\(other.port)/there\r\n"
                                + "Content-Length: 0\r\n\r\n"
                        )
                    ]
                }
                return [.close]
            }
            let client = HTTPClient(loop: loop, configuration: testClientConfiguration())
            let collector = Collector()
            collector.onFinish = { download in
                client.close()
                first.close()
                other.close()
                if let error = download.error { return done(.failure(TestFailure("\(error)"))) }
                done(.success(first.requests + other.requests))
            }
            client.request(
                try HTTPURL("http://user:pw@127.0.0.1:\(first.port)/same"),
                headers: HTTPHeaders([("X-Api-Key", "secret-key")]), delegate: collector)
        }
        #expect(seen.count == 3)
        #expect(seen[0].contains("X-Api-Key: secret-key") && seen[0].contains("Authorization: Basic dXNlcjpwdw=="))
        #expect(seen[1].contains("X-Api-Key: secret-key") && seen[1].contains("Authorization: Basic"))
        #expect(!seen[2].contains("X-Api-Key") && !seen[2].contains("Authorization"), "\(seen[2])")
    }
}
