import Foundation
@_spi(Internals) import HTTP1
@_spi(Internals) import Reactor
@_spi(Internals) import TestSupport
import Testing

/// One request through a fresh client to a scripted server, with a body and/or any status accepted, then maybe a GET.
private func send(
    _ path: String, method: String = "GET", body: [UInt8]? = nil, acceptsAnyStatus: Bool = false,
    thenGet second: String? = nil, secondMethod: String = "GET", secondBody: [UInt8]? = nil,
    script: @escaping @Sendable (_ connection: Int, _ request: String) -> [ScriptedServer.Step]
) async throws -> (downloads: [Download], requests: [String]) {
    try await onLoop { loop, done in
        let server = try ScriptedServer(loop: loop, script: script)
        let client = HTTPClient(loop: loop, configuration: testClientConfiguration())
        let base = "http://127.0.0.1:\(server.port)"
        var results: [Download] = []
        func finish() {
            client.close()
            server.close()
            done(.success((results, server.requests)))
        }
        let first = Collector()
        first.onFinish = { download in
            results.append(download)
            guard let second else { return finish() }
            let collector = Collector()
            collector.onFinish = {
                results.append($0)
                finish()
            }
            client.request(try! HTTPURL(base + second), method: secondMethod, body: secondBody, delegate: collector)
        }
        client.request(
            try HTTPURL(base + path), method: method, body: body, acceptsAnyStatus: acceptsAnyStatus, delegate: first)
    }
}

@Suite("HTTP client: request bodies and non-2xx responses handed over")
struct HTTPRequestBodyTests {
    @Test("a POST sends its body after the head, with its Content-Length, and the connection stays usable")
    func postBody() async throws {
        let payload = Array("a,b\n1,2\n".utf8)
        let result = try await send("/upload", method: "POST", body: payload, thenGet: "/next") { _, _ in
            [.send(okHead + "Content-Length: 2\r\n\r\nok")]
        }
        #expect(result.downloads.map(\.error).allSatisfy { $0 == nil })
        #expect(result.requests.count == 2)
        #expect(result.requests[0].hasPrefix("POST /upload HTTP/1.1\r\n"))
        #expect(result.requests[0].contains("\r\nContent-Length: 8\r\n"))
        // The server reads heads only: the body is what came between the two, on the same connection.
        #expect(result.requests[1].hasPrefix("a,b\n1,2\nGET /next HTTP/1.1\r\n"))
        #expect(result.downloads[0].body == Data("ok".utf8))
    }

    @Test("a POST never takes a pooled connection (a stale one could not be retried): a fresh one, after a GET")
    func postOnFreshConnection() async throws {
        let connections = Locked<[Int]>([])
        let result = try await send(
            "/first", thenGet: "/form", secondMethod: "POST", secondBody: Array("x=1".utf8)
        ) { connection, _ in
            connections.withLock { $0.append(connection) }
            return [.send(okHead + "Content-Length: 2\r\n\r\nok")]
        }
        #expect(result.downloads.map(\.error).allSatisfy { $0 == nil })
        #expect(result.requests.last?.hasPrefix("POST /form HTTP/1.1\r\n") == true, "\(result.requests)")
        let seen = connections.value
        #expect(seen.count == 2 && seen[0] != seen[1], "the POST went over the GET's kept-alive connection: \(seen)")
    }

    @Test("a 303 after a POST is followed with a GET that carries no body")
    func seeOther() async throws {
        let result = try await send("/form", method: "POST", body: Array("x=1".utf8)) { _, request in
            request.contains("POST /form")
                ? [.send("HTTP/1.1 303 See Other\r\nLocation: /result\r\nContent-Length: 0\r\n\r\n")]
                : [.send(okHead + "Content-Length: 4\r\n\r\ndone")]
        }
        #expect(result.downloads[0].error == nil)
        #expect(result.downloads[0].body == Data("done".utf8))
        #expect(result.requests.count == 2)
        #expect(result.requests[1].hasPrefix("x=1GET /result HTTP/1.1\r\n"))
        #expect(!result.requests[1].contains("Content-Length"))
    }

    @Test("a request that opts in gets a 503's head and body; without opting in it fails with the status")
    func nonSuccessHandedOver() async throws {
        let script: @Sendable (Int, String) -> [ScriptedServer.Step] = { _, _ in
            [.send("HTTP/1.1 503 Busy\r\nRetry-After: 7\r\nContent-Length: 11\r\n\r\ntry again\r\n")]
        }
        let accepted = try await send("/data.csv", acceptsAnyStatus: true, script: script)
        #expect(accepted.downloads[0].error == nil)
        #expect(accepted.downloads[0].head?.status == 503)
        #expect(accepted.downloads[0].body == Data("try again\r\n".utf8))
        let refused = try await send("/data.csv", script: script)
        guard case .status(_, 503, _, 7)? = refused.downloads[0].error else {
            Issue.record("expected a 503 status error, got \(String(describing: refused.downloads[0].result))")
            return
        }
        #expect(refused.downloads[0].body.isEmpty)
    }
}
