import Foundation
@_spi(Internals) import HTTP1
@_spi(Internals) import Reactor
@_spi(Internals) import TLS
@_spi(Internals) import TestSupport
import Testing

@Suite("HTTP client against the test nginx")
struct HTTPClientNginxTests {
    init() throws {
        try TestEnv.require(.nginxHTTP, .nginxHTTPS)
    }

    @Test(
        "GET over HTTP and HTTPS, Content-Length and chunked, bodies byte for byte",
        arguments: [
            ("http", "/small.csv", "small.csv"), ("https", "/small.csv", "small.csv"),
            ("http", "/chunked/large.csv", "large.csv"), ("https", "/chunked/large.csv", "large.csv"),
            ("https", "/large.csv", "large.csv"),
        ])
    func get(scheme: String, path: String, file: String) async throws {
        let result = try await download((scheme == "http" ? httpBase : httpsBase) + path)
        #expect(result.error == nil, "\(String(describing: result.error))")
        #expect(result.body == (try wwwFile(file)))
        #expect(result.head?.status == 200)
        #expect((try? result.result?.get().tlsVersion) == (scheme == "https" ? "TLSv1.3" : nil))
        if path.hasPrefix("/chunked/") {
            #expect(result.head?.headers["Transfer-Encoding"] == "chunked")
        }
    }

    @Test("a 100 MiB file streams through whole and byte-exact, with the consumer pausing now and then")
    func largeFile() async throws {
        let name = "big-100m.bin"
        let path = TestEnv.wwwDirectory + "/" + name
        if (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) != 100 * 1024 * 1024 {
            var block = [UInt8](repeating: 0, count: 1024 * 1024)
            _ = FileManager.default.createFile(atPath: path, contents: nil)
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
            for index in 0..<100 {
                for offset in stride(from: 0, to: block.count, by: 4096) {
                    block[offset] = UInt8(truncatingIfNeeded: index &* 31 &+ offset >> 12)
                }
                handle.write(Data(block))
            }
            try handle.close()
        }
        let expected = try Data(contentsOf: URL(fileURLWithPath: path))
        for base in [httpBase, httpsBase] {
            let result = try await download(base + "/" + name, pauseAfterHeadMS: 50)
            #expect(result.error == nil, "\(String(describing: result.error))")
            #expect(result.body.count == expected.count)
            #expect(result.body == expected, "\(base): body differs")
            #expect(result.bytesWhilePaused == 0, "bytes arrived while the consumer was paused")
        }
    }

    @Test("404 is a status error with its code and reason, not worth a retry")
    func notFound() async throws {
        let result = try await download(httpBase + "/missing.csv")
        guard case .status(_, let code, let reason, _)? = result.error else {
            Issue.record("expected a status error, got \(String(describing: result.result))")
            return
        }
        #expect(code == 404 && reason == "Not Found")
        #expect(result.error?.isTransient == false)
        #expect(result.body.isEmpty)
    }

    @Test("keep-alive: several requests to one origin go over one connection", arguments: ["http", "https"])
    func keepAlive(scheme: String) async throws {
        let marker = "keepalive-\(UInt32.random(in: 0...UInt32.max))"
        let base = scheme == "http" ? httpBase : httpsBase
        let results = try await downloads((1...4).map { "\(base)/small.csv?\(marker)=\($0)" })
        #expect(results.allSatisfy { $0.error == nil })
        let reused = results.map { (try? $0.result?.get().reusedConnection) ?? nil }
        #expect(reused == [false, true, true, true])
        // nginx's own log: the four requests carry one connection number, with request counts 1…4.
        let log = try String(contentsOfFile: TestEnv.directory + "/nginx-access.log", encoding: .utf8)
        let lines = log.split(separator: "\n").filter { $0.contains(marker) }
        #expect(lines.count == 4)
        #expect(Set(lines.map { $0.split(separator: " ")[0] }).count == 1, "\(lines)")
    }

    @Test("redirects: relative, absolute, chained; the chain is reported")
    func redirects() async throws {
        let expected = try wwwFile("small.csv")
        for path in ["/redirect/relative", "/redirect/absolute", "/redirect/chain"] {
            let result = try await download(httpBase + path)
            #expect(result.body == expected, "\(path)")
            let summary = try #require(try? result.result?.get())
            #expect(summary.finalURL == "\(httpBase)/small.csv")
            #expect(summary.redirects.first == httpBase + path)
        }
        let chain = try #require(try? (try await download(httpBase + "/redirect/chain")).result?.get())
        #expect(chain.redirects == [httpBase + "/redirect/chain", httpBase + "/redirect/relative"])
    }

    @Test("http to https is followed; https to http is refused")
    func schemeChanges() async throws {
        let up = try await download(httpBase + "/redirect/to-https")
        #expect(up.body == (try wwwFile("small.csv")))
        let down = try await download(httpsBase + "/redirect/to-http")
        guard case .redirect(_, let reason)? = down.error else {
            Issue.record("expected a refused redirect, got \(String(describing: down.result))")
            return
        }
        #expect(reason.contains("https to http"))
        #expect(down.body.isEmpty)
    }

    @Test("a redirect loop is detected")
    func loop() async throws {
        let result = try await download(httpBase + "/redirect/loop")
        guard case .redirect(_, let reason)? = result.error else {
            Issue.record("expected a redirect error, got \(String(describing: result.result))")
            return
        }
        #expect(reason.contains("loop"))
    }

    @Test("TLS verification failures come through as TLS errors")
    func tlsFailure() async throws {
        var configuration = testClientConfiguration()
        configuration.tls = .client()  // no test CA
        let result = try await download(httpsBase + "/small.csv", configuration: configuration)
        guard case .tls(_, .verificationFailed(_, .unknownCA))? = result.error else {
            Issue.record("expected unknown CA, got \(String(describing: result.result))")
            return
        }
        #expect(result.error?.isTransient == false)
    }

    @Test("connection refused is a connect error, worth a retry")
    func refused() async throws {
        let result = try await download("http://127.0.0.1:1/x.csv")
        guard case .connect(_, .connectionRefused)? = result.error else {
            Issue.record("expected refused, got \(String(describing: result.result))")
            return
        }
        #expect(result.error?.isTransient == true)
    }
}

@Suite("HTTP client: nginx's non-2xx answers, when a request takes them")
struct HTTPClientNginxStatusTests {
    init() throws {
        try TestEnv.require(.nginxHTTP)
    }

    @Test("a 404 and its page reach a request that accepts any status; `get` still fails on 404")
    func notFoundAccepted() async throws {
        let accepted: Download = try await onLoop { loop, done in
            let client = HTTPClient(loop: loop, configuration: testClientConfiguration())
            let collector = Collector()
            collector.onFinish = { download in
                client.close()
                done(.success(download))
            }
            client.request(try HTTPURL(httpBase + "/missing.csv"), acceptsAnyStatus: true, delegate: collector)
        }
        #expect(accepted.error == nil)
        #expect(accepted.head?.status == 404)
        #expect(String(decoding: accepted.body, as: UTF8.self).contains("404 Not Found"))
        let plain = try await download(httpBase + "/missing.csv")
        guard case .status(_, 404, _, _)? = plain.error else {
            Issue.record("expected a 404 status error, got \(String(describing: plain.result))")
            return
        }
    }
}
