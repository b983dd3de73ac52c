import Foundation
@_spi(Internals) import HTTP1
@_spi(Internals) import Reactor
@_spi(Internals) import TestSupport
import Testing

/// Downloads `url` through a test proxy on the same loop; returns the download and the heads the proxy saw.
func throughProxy(
    _ url: String, proxyUser: String? = nil, requireAuthorization: String? = nil, noProxy: [String] = [],
    trace: ProtocolTrace? = nil
) async throws -> (download: Download, heads: [String]) {
    try await onLoop { loop, done in
        let proxy = try TestProxy(loop: loop)
        proxy.requiredAuthorization = requireAuthorization
        var configuration = testClientConfiguration()
        configuration.trace = trace
        let proxyURL = try HTTPURL("http://\(proxyUser.map { "\($0)@" } ?? "")127.0.0.1:\(proxy.port)")
        configuration.proxies = ProxySettings(httpProxy: proxyURL, httpsProxy: proxyURL, noProxy: noProxy)
        let client = HTTPClient(loop: loop, configuration: configuration)
        let collector = Collector()
        collector.onFinish = { download in
            client.close()
            proxy.close()
            done(.success((download, proxy.heads)))
        }
        client.request(try HTTPURL(url), delegate: collector)
    }
}

@Suite("HTTP client through proxies")
struct ProxyTests {
    init() throws {
        try TestEnv.require(.nginxHTTP, .nginxHTTPS)
    }

    @Test("https goes through a CONNECT tunnel, TLS end to end with the origin (verified by its name)")
    func connectTunnel() async throws {
        let (download, heads) = try await throughProxy("\(httpsBase)/small.csv")
        #expect(download.error == nil, "\(String(describing: download.error))")
        #expect(download.body == (try wwwFile("small.csv")))
        #expect(heads.count == 1)
        #expect(heads[0].hasPrefix("CONNECT localhost:\(TestEnv.httpsPort) HTTP/1.1\r\n"))
        #expect(!heads[0].contains("small.csv"), "the proxy must not see the path inside the tunnel")
    }

    @Test("the CONNECT exchange is traced, under the number of the connection it opens, its credentials masked")
    func connectTraced() async throws {
        let lines = Locked<[String]>([])
        let trace = ProtocolTrace { connection, direction, line in
            lines.withLock { $0.append("\(connection) \(direction.rawValue) \(line)") }
        }
        let (download, _) = try await throughProxy(
            "\(httpsBase)/small.csv", proxyUser: "pxuser:pxpass", trace: trace)
        #expect(download.error == nil, "\(String(describing: download.error))")
        let traced = lines.value
        let connect = traced.first { $0.hasSuffix("> CONNECT localhost:\(TestEnv.httpsPort) HTTP/1.1") }
        let number = connect.map { String($0.prefix { $0 != " " }) }
        #expect(number != nil, "\(traced)")
        #expect(traced.contains("\(number ?? "") > Proxy-Authorization: ***"), "\(traced)")
        #expect(traced.contains { $0.hasPrefix("\(number ?? "") < HTTP/1.1 200") }, "the proxy's answer: \(traced)")
        #expect(traced.contains("\(number ?? "") > GET /small.csv HTTP/1.1"), "the request inside: \(traced)")
        #expect(!traced.contains { $0.contains("pxpass") || $0.contains("cHh1c2Vy") })
    }

    @Test("http goes to the proxy in absolute form")
    func forward() async throws {
        let (download, heads) = try await throughProxy("\(httpBase)/small.csv")
        #expect(download.body == (try wwwFile("small.csv")))
        #expect(heads.first?.hasPrefix("GET http://127.0.0.1:\(TestEnv.httpPort)/small.csv HTTP/1.1\r\n") == true)
    }

    @Test("proxy credentials from the proxy URL go to the proxy as Proxy-Authorization")
    func credentials() async throws {
        let expected = HTTPRequestEncoder.basicAuthorization(user: "pxuser", password: "pxpass")
        let (download, heads) = try await throughProxy(
            "\(httpsBase)/small.csv", proxyUser: "pxuser:pxpass", requireAuthorization: expected)
        #expect(download.error == nil, "\(String(describing: download.error))")
        #expect(heads.first?.contains("Proxy-Authorization: \(expected)") == true)
    }

    @Test("a proxy that wants credentials we lack: a proxy error that says so, without secrets")
    func missingCredentials() async throws {
        let (download, _) = try await throughProxy("\(httpsBase)/small.csv", requireAuthorization: "Basic x")
        guard case .proxy(_, let reason)? = download.error else {
            Issue.record("expected a proxy error, got \(String(describing: download.result))")
            return
        }
        #expect(reason.contains("407"))
    }

    @Test("NO_PROXY: matching hosts go direct (loopback too, only when listed)")
    func noProxy() async throws {
        let direct = try await throughProxy("\(httpBase)/small.csv", noProxy: ["127.0.0.1"])
        #expect(direct.download.error == nil)
        #expect(direct.heads.isEmpty)
        let star = try await throughProxy("\(httpsBase)/small.csv", noProxy: ["*"])
        #expect(star.heads.isEmpty)
        let other = try await throughProxy("\(httpsBase)/small.csv", noProxy: ["example.com"])
        #expect(other.heads.count == 1)
    }

    @Test("proxy variables: lower case first, scheme optional, NO_PROXY suffixes")
    func environment() throws {
        let settings = try ProxySettings(environment: [
            "http_proxy": "proxy.local:3128", "HTTP_PROXY": "http://ignored:1", "HTTPS_PROXY": "http://u:p@secure:8080",
            "NO_PROXY": "internal.example, .corp, 10.0.0.1",
        ])
        #expect(settings.httpProxy?.host == "proxy.local" && settings.httpProxy?.port == 3128)
        #expect(settings.httpsProxy?.user == "u")
        #expect(settings.proxy(for: try HTTPURL("https://files.internal.example/x")) == nil)
        #expect(settings.proxy(for: try HTTPURL("https://a.corp/x")) == nil)
        #expect(settings.proxy(for: try HTTPURL("http://10.0.0.1/x")) == nil)
        #expect(settings.proxy(for: try HTTPURL("https://example.org/x"))?.host == "secure")
        #expect(settings.proxy(for: try HTTPURL("http://127.0.0.1/x"))?.host == "proxy.local")
        #expect(throws: URLParseError.self) { _ = try ProxySettings(environment: ["https_proxy": "http://bad host"]) }
    }
}
