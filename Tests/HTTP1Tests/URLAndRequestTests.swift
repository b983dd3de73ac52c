@_spi(Internals) import HTTP1
import Testing

@Suite("URLs")
struct URLTests {
    @Test("parts of typical URLs")
    func parts() throws {
        let url = try HTTPURL("HTTPS://User:p%40ss@Files.Example.COM:8443/data/x.csv?token=abc&day=1#frag")
        #expect(url.scheme == .https)
        #expect(url.user == "User" && url.password == "p@ss")
        #expect(url.host == "files.example.com" && url.port == 8443)
        #expect(url.path == "/data/x.csv" && url.query == "token=abc&day=1")
        #expect(url.requestTarget == "/data/x.csv?token=abc&day=1")
        #expect(url.authority == "files.example.com:8443")
        #expect(url.redacted == "https://User:***@files.example.com:8443/data/x.csv?token=***&day=***")

        let plain = try HTTPURL("http://example.com")
        #expect(plain.port == 80 && plain.path == "/" && plain.authority == "example.com")

        let v6 = try HTTPURL("http://[::1]:18080/a b.csv")
        #expect(v6.host == "::1" && v6.port == 18080 && v6.authority == "[::1]:18080")
        #expect(v6.path == "/a%20b.csv")
        #expect(try HTTPURL("https://[2001:db8::1]/").authority == "[2001:db8::1]")
    }

    @Test("malformed and unsupported URLs are refused with a reason, never with the password in it")
    func errors() {
        func reason(_ text: String) -> String {
            do {
                _ = try HTTPURL(text)
                return "accepted"
            } catch {
                return error.description
            }
        }
        #expect(reason("ftp://example.com/x").contains("unsupported scheme 'ftp'"))
        #expect(reason("example.com/x.csv").contains("no scheme"))
        #expect(reason("http:/example.com").contains("expected '//'"))
        #expect(reason("http://").contains("no host"))
        #expect(reason("http://exa mple.com/").contains("cannot have"))
        #expect(reason("http://example.com:0/").contains("invalid port"))
        #expect(reason("http://example.com:70000/").contains("invalid port"))
        #expect(reason("http://[::1/").contains("unclosed"))
        #expect(reason("http://[zz]/").contains("not an IPv6"))
        #expect(reason("http://a\nb/").contains("control characters"))
        let withPassword = reason("http://u:secret@exa mple.com/")
        #expect(!withPassword.contains("secret") && withPassword.contains("u:***@"))
    }

    @Test("redirect targets resolve as RFC 3986 says")
    func resolving() throws {
        let base = try HTTPURL("https://example.com/a/b/c.csv?q=1")
        #expect(try base.resolving("d.csv").description == "https://example.com/a/b/d.csv")
        #expect(try base.resolving("../d.csv").description == "https://example.com/a/d.csv")
        #expect(try base.resolving("/top.csv?x=2").description == "https://example.com/top.csv?x=2")
        #expect(try base.resolving("?other").description == "https://example.com/a/b/c.csv?other")
        #expect(try base.resolving("//cdn.example.net/f.csv").description == "https://cdn.example.net/f.csv")
        #expect(try base.resolving("http://plain.example.com/").scheme == .http)
        #expect(try base.resolving("./x/./y/../z.csv").path == "/a/b/x/z.csv")
    }
}

@Suite("Request encoder")
struct RequestEncoderTests {
    @Test("a GET with the standard headers, extra headers after them, one replacing a standard one")
    func encode() throws {
        let bytes = try HTTPRequestEncoder.encode(
            method: "GET", target: "/x.csv?a=1", authority: "example.com:8080", userAgent: "web2ftp/1",
            headers: HTTPHeaders([("X-Api-Key", "k"), ("accept", "text/csv")]))
        #expect(
            String(decoding: bytes, as: UTF8.self)
                == "GET /x.csv?a=1 HTTP/1.1\r\nHost: example.com:8080\r\nUser-Agent: web2ftp/1\r\n"
                + "Accept-Encoding: identity\r\nConnection: keep-alive\r\nX-Api-Key: k\r\naccept: text/csv\r\n\r\n")
    }

    @Test("CR, LF or NUL in a header, or a name that is not a token, is refused")
    func injection() {
        for (name, value) in [
            ("X-A", "v\r\nInjected: 1"), ("X-B", "v\nx"), ("X-C", "v\u{0}"), ("Bad Name", "v"), ("", "v"),
        ] {
            #expect(throws: HTTPRequestEncoder.InvalidHeader.self) {
                _ = try HTTPRequestEncoder.encode(
                    method: "GET", target: "/", authority: "h", userAgent: "u", headers: HTTPHeaders([(name, value)]))
            }
        }
        #expect(throws: HTTPRequestEncoder.InvalidHeader.self) {
            _ = try HTTPRequestEncoder.encode(method: "GET", target: "/a b", authority: "h", userAgent: "u")
        }
    }

    @Test("Basic credentials")
    func basic() {
        #expect(
            HTTPRequestEncoder.basicAuthorization(user: "Aladdin", password: "open sesame")
                == "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==")
        #expect(HTTPRequestEncoder.basicAuthorization(user: "a", password: "") == "Basic YTo=")
    }
}

@Suite("Retry-After")
struct RetryAfterTests {
    let now: Int64 = 784_111_777 - 60  // a minute before Sun, 06 Nov 1994 08:49:37 GMT

    @Test("delay-seconds and the three HTTP-date forms")
    func forms() {
        #expect(RetryAfter.seconds("120", now: now) == 120)
        #expect(RetryAfter.seconds("Sun, 06 Nov 1994 08:49:37 GMT", now: now) == 60)
        #expect(RetryAfter.seconds("Sunday, 06-Nov-94 08:49:37 GMT", now: now) == 60)
        #expect(RetryAfter.seconds("Sun Nov  6 08:49:37 1994", now: now) == 60)
    }

    @Test("a date in the past means now; garbage means nothing")
    func edges() {
        #expect(RetryAfter.seconds("Sun, 06 Nov 1994 08:49:37 GMT", now: now + 3600) == 0)
        #expect(RetryAfter.seconds("soon", now: now) == nil)
        #expect(RetryAfter.seconds("-5", now: now) == nil)
        #expect(HTTPDate.parse("Thu, 01 Jan 1970 00:00:00 GMT") == 0)
        #expect(HTTPDate.parse("Tue, 29 Feb 2028 12:00:00 GMT") == 1_835_438_400)
    }
}
