@_spi(Internals) import HTTP1
@_spi(Internals) import Reactor
@_spi(Internals) import TestSupport
import Testing

@Suite("HTTP trace: what --trace may show")
struct HTTPTraceMaskTests {
    @Test(
        "request lines: query values masked, names kept; a proxy's absolute form redacted like any URL",
        arguments: [
            ("GET /data.csv HTTP/1.1", "GET /data.csv HTTP/1.1"),
            ("GET /a?token=s3cret HTTP/1.1", "GET /a?token=*** HTTP/1.1"),
            ("GET /a?x=1&flag&y=&z=2 HTTP/1.1", "GET /a?x=***&***&y=***&z=*** HTTP/1.1"),
            ("GET /a?APIKEY123 HTTP/1.1", "GET /a?*** HTTP/1.1"),
            ("GET /?= HTTP/1.1", "GET /?=*** HTTP/1.1"),
            ("GET http://u:pw@proxy.test:81/p?k=v HTTP/1.1", "GET http://u:***@proxy.test:81/p?k=*** HTTP/1.1"),
            ("CONNECT example.com:443 HTTP/1.1", "CONNECT example.com:443 HTTP/1.1"),
            ("CONNECT [::1]:8443 HTTP/1.1", "CONNECT [::1]:8443 HTTP/1.1"),
            ("CONNECT u:pw@example.com:443 HTTP/1.1", "CONNECT *** HTTP/1.1"),
            ("garbage", "***"),
        ])
    func requestLine(_ line: String, _ shown: String) {
        #expect(HTTPTraceMask.requestLine(line) == shown)
    }

    @Test(
        "header values masked except the body's and the move's; Location redacted like a URL",
        arguments: [
            ("Content-Type", "text/csv; charset=utf-8", "Content-Type: text/csv; charset=utf-8"),
            ("content-length", "12", "content-length: 12"),
            ("Content-Encoding", "gzip", "Content-Encoding: gzip"),
            ("Transfer-Encoding", "chunked", "Transfer-Encoding: chunked"),
            ("ETag", "\"v1\"", "ETag: \"v1\""),
            ("Last-Modified", "Tue, 01 Dec 2026 10:00:00 GMT", "Last-Modified: Tue, 01 Dec 2026 10:00:00 GMT"),
            ("Retry-After", "120", "Retry-After: 120"),
            ("Authorization", "Basic dTpwdw==", "Authorization: ***"),
            ("Proxy-Authorization", "Basic dTpwdw==", "Proxy-Authorization: ***"),
            ("Set-Cookie", "session=abc", "Set-Cookie: ***"),
            ("Host", "example.com", "Host: ***"),
            ("Location", "https://u:pw@h.test/next?sig=abc", "Location: https://u:***@h.test/next?sig=***"),
            ("Location", "/next?sig=abc&a", "Location: /next?sig=***&***"),
            ("Location", "//u:pw@h.test/x?k=v", "Location: //u:***@h.test/x?k=***"),
            ("Location", "next.csv", "Location: next.csv"),
            ("Location", "/p?k=v#frag", "Location: /p?k=***"),
            ("Location", "ftp://u:pw@h.test/x?k=v", "Location: ftp://***@h.test/x?k=***"),
            ("Location", "https://u:pw@h.test:99999/", "Location: https://***@h.test:99999/"),
            ("Location", "//u:pw@h.test:bad/x", "Location: //***@h.test:bad/x"),
        ])
    func header(_ name: String, _ value: String, _ shown: String) {
        #expect(HTTPTraceMask.headerLine(name: name, value: value) == shown)
        #expect(HTTPTraceMask.headerLine("\(name): \(value)") == shown)
    }
}

@Suite("HTTP trace: the lines of a conversation")
struct HTTPTraceTests {
    @Test("requests and every response head, 1xx and redirects too, masked, under one number per connection")
    func conversation() async throws {
        let lines = Locked<[(Int, ProtocolTrace.Direction, String)]>([])
        var configuration = testClientConfiguration()
        configuration.trace = ProtocolTrace { connection, direction, line in
            lines.withLock { $0.append((connection, direction, line)) }
        }
        var headers = HTTPHeaders()
        headers.add("X-Api-Key", "key-0123456789")
        let result = try await scripted(["/a?token=s3cret&x", "/c"], configuration: configuration, headers: headers) {
            _, request in
            if request.hasPrefix("GET /a?") {
                return [
                    .send("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 302 Found\r\nLocation: /final?sig=abc\r\n"),
                    .send("Content-Length: 0\r\n\r\n"),
                ]
            }
            return [.send(okHead + "Set-Cookie: id=s3cret\r\nETag: \"v1\"\r\nContent-Length: 2\r\n\r\nok")]
        }
        #expect(result.connections == 1)
        #expect(result.downloads.allSatisfy { (try? $0.result?.get()) != nil })
        let recorded = lines.value
        let numbers = Set(recorded.map(\.0))
        #expect(numbers.count == 1 && numbers.first! > 0, "one connection, one number: \(numbers)")
        let request = ["Host: ***", "User-Agent: ***", "Accept: ***", "Accept-Encoding: ***", "Connection: ***"]
        let sent = request + ["X-Api-Key: ***"]
        let ok = ["HTTP/1.1 200 OK", "Content-Type: text/csv", "Set-Cookie: ***", "ETag: \"v1\"", "Content-Length: 2"]
        let expected =
            [">GET /a?token=***&*** HTTP/1.1"] + sent.map { ">" + $0 }
            + ["<HTTP/1.1 100 Continue", "<HTTP/1.1 302 Found", "<Location: /final?sig=***", "<Content-Length: 0"]
            + [">GET /final?sig=*** HTTP/1.1"] + sent.map { ">" + $0 } + ok.map { "<" + $0 }
            + [">GET /c HTTP/1.1"] + sent.map { ">" + $0 } + ok.map { "<" + $0 }
        #expect(recorded.map { $0.1.rawValue + $0.2 } == expected)
        #expect(!recorded.contains { $0.2.contains("s3cret") || $0.2.contains("key-0123") || $0.2.contains("abc") })
    }

    @Test("each new connection takes a new number")
    func numbers() async throws {
        let seen = Locked<Set<Int>>([])
        var configuration = testClientConfiguration()
        configuration.trace = ProtocolTrace { connection, _, _ in seen.withLock { _ = $0.insert(connection) } }
        for _ in 0..<2 {
            _ = try await scripted(configuration: configuration) { _, _ in [.send(okHead + "Content-Length: 0\r\n\r\n")]
            }
        }
        #expect(seen.value.count == 2)
    }
}
