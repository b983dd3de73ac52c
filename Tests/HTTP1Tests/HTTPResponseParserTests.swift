@_spi(Internals) import HTTP1
import Testing

/// Feeds `input` to a fresh parser in the given pieces (then EOF if `eof`) and describes what it reported, with
/// adjacent body events merged: splitting changes how the body is sliced, never what it is.
func parse(_ pieces: [[UInt8]], method: String = "GET", eof: Bool = false) -> [String] {
    var parser = HTTPResponseParser(requestMethod: method)
    var events: [String] = []
    func record(_ event: HTTPResponseParser.Event) {
        switch event {
        case .interim(let head):
            events.append("interim \(head.status) \(head.headers.fields.count)")
        case .head(let head):
            let headers = head.headers.fields.map { "\($0.name)=\($0.value)" }.joined(separator: ";")
            events.append("head \(head.version.major).\(head.version.minor) \(head.status) [\(head.reason)] \(headers)")
        case .body(let bytes):
            let text = String(decoding: bytes, as: UTF8.self)
            if let last = events.last, last.hasPrefix("body ") {
                events[events.count - 1] = last + text
            } else {
                events.append("body " + text)
            }
        case .end(let keepAlive):
            events.append("end keepAlive=\(keepAlive)")
        }
    }
    do {
        for piece in pieces {
            _ = try piece.withUnsafeBytes {
                try parser.feed($0) {
                    record($0)
                    return true
                }
            }
        }
        if eof {
            try parser.finish {
                record($0)
                return true
            }
        }
    } catch let error as HTTPParseError {
        events.append("error \(error.kind) @\(error.offset): \(error.detail)")
    } catch {
        events.append("unexpected error \(error)")
    }
    return events
}

/// The events for `text`, checked to be identical whole, split once at every byte, and byte by byte.
func events(_ text: String, method: String = "GET", eof: Bool = false) -> [String] {
    let bytes = Array(text.utf8)
    let whole = parse([bytes], method: method, eof: eof)
    for split in 0...bytes.count {
        let pieces = [Array(bytes[..<split]), Array(bytes[split...])]
        let result = parse(pieces, method: method, eof: eof)
        #expect(result == whole, "split at \(split) of \(bytes.count)")
        if result != whole { break }
    }
    #expect(parse(bytes.map { [$0] }, method: method, eof: eof) == whole, "byte by byte")
    return whole
}

@Suite("HTTP response parser: valid responses, identical however split")
struct HTTPResponseParserTests {
    @Test("Content-Length body")
    func contentLength() {
        #expect(
            events("HTTP/1.1 200 OK\r\nContent-Type: text/csv\r\nContent-Length: 11\r\n\r\na,b\n1,2\n3,4")
                == [
                    "head 1.1 200 [OK] Content-Type=text/csv;Content-Length=11", "body a,b\n1,2\n3,4",
                    "end keepAlive=true",
                ])
    }

    @Test("chunked body with extensions and trailers")
    func chunked() {
        let text =
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            + "4;name=value\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nExpires: never\r\n\r\n"
        #expect(
            events(text) == [
                "head 1.1 200 [OK] Transfer-Encoding=chunked", "body Wikipedia in\r\n\r\nchunks.", "end keepAlive=true",
            ])
    }

    @Test("upper-case hex chunk sizes and a bare-LF response")
    func hexAndBareLF() {
        #expect(
            events("HTTP/1.1 200 OK\nTransfer-Encoding: Chunked\n\nA\n0123456789\n0\n\n")
                == ["head 1.1 200 [OK] Transfer-Encoding=Chunked", "body 0123456789", "end keepAlive=true"])
    }

    @Test("close-delimited body ends at EOF, and the connection is not reused")
    func untilClose() {
        #expect(
            events("HTTP/1.1 200 OK\r\n\r\nall of it", eof: true)
                == ["head 1.1 200 [OK] ", "body all of it", "end keepAlive=false"])
    }

    @Test("interim 1xx responses are reported as such, then the final one")
    func interim() {
        #expect(
            events(
                "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
                    + "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
            )
                == [
                    "interim 100 0", "interim 103 1", "head 1.1 200 [OK] Content-Length=2", "body ok",
                    "end keepAlive=true",
                ])
    }

    @Test("HEAD, 204 and 304 have no body whatever the headers say")
    func noBody() {
        #expect(
            events("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n", method: "HEAD")
                == ["head 1.1 200 [OK] Content-Length=1000", "end keepAlive=true"])
        #expect(events("HTTP/1.1 204 No Content\r\n\r\n") == ["head 1.1 204 [No Content] ", "end keepAlive=true"])
        #expect(
            events("HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n")
                == ["head 1.1 304 [Not Modified] Transfer-Encoding=chunked", "end keepAlive=true"])
    }

    @Test("keep-alive: HTTP/1.1 unless Connection: close; HTTP/1.0 only with keep-alive")
    func keepAlive() {
        #expect(
            events("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n").last == "end keepAlive=false")
        #expect(events("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n").last == "end keepAlive=false")
        #expect(
            events("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n").last
                == "end keepAlive=true")
    }

    @Test("repeated headers are kept; names compare case-insensitively; identical Content-Lengths are one")
    func headers() {
        var head: HTTPResponseHead?
        var parser = HTTPResponseParser()
        let text =
            "HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nset-cookie: b=2\r\n"
            + "Content-Length: 3, 3\r\ncontent-length: 3\r\nX-Empty:\r\n\r\nabc"
        _ = try? Array(text.utf8).withUnsafeBytes { bytes in
            try parser.feed(bytes) {
                if case .head(let h) = $0 { head = h }
                return true
            }
        }
        #expect(head?.headers.values("SET-COOKIE") == ["a=1", "b=2"])
        #expect(head?.headers["x-empty"] == "")
        #expect(parser.isComplete)
    }

    @Test("an empty reason phrase is allowed")
    func emptyReason() {
        #expect(events("HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n").first == "head 1.1 200 [] Content-Length=0")
    }

    @Test("a consumer that pauses stops the parser right after that event; the rest is fed later")
    func pausing() throws {
        let text = Array("HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nabcdef".utf8)
        var parser = HTTPResponseParser()
        var seen: [String] = []
        let consumed = try text.withUnsafeBytes { bytes in
            try parser.feed(bytes) { event in
                if case .head = event { seen.append("head") }
                return false  // pause after the head
            }
        }
        #expect(seen == ["head"])
        #expect(consumed == text.count - 6)
        _ = try Array(text[consumed...]).withUnsafeBytes { bytes in
            try parser.feed(bytes) { event in
                if case .body(let body) = event { seen.append(String(decoding: body, as: UTF8.self)) }
                if case .end = event { seen.append("end") }
                return true
            }
        }
        #expect(seen == ["head", "abcdef", "end"])
    }

    @Test("a 2xx answer to CONNECT opens the tunnel: no body follows")
    func connect() {
        #expect(
            events("HTTP/1.1 200 Connection established\r\n\r\n", method: "CONNECT")
                == ["head 1.1 200 [Connection established] ", "end keepAlive=true"])
    }

    @Test("the parser is reusable for the next response on a kept-alive connection")
    func reset() throws {
        var parser = HTTPResponseParser()
        var ends = 0
        for _ in 0..<3 {
            _ = try Array("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx".utf8).withUnsafeBytes { bytes in
                try parser.feed(bytes) {
                    if case .end = $0 { ends += 1 }
                    return true
                }
            }
            parser.reset(requestMethod: "GET")
        }
        #expect(ends == 3)
    }
}

@Suite("HTTP response parser: malformed input gives its own error")
struct HTTPResponseParserErrorTests {
    func error(_ text: String, method: String = "GET", eof: Bool = false) -> String {
        events(text, method: method, eof: eof).last ?? ""
    }

    @Test("bad status lines")
    func statusLines() {
        #expect(error("HTTP/1.1 2000 OK\r\n\r\n").hasPrefix("error invalidStatusLine"))
        #expect(error("HTTP/2 200 OK\r\n\r\n").hasPrefix("error invalidStatusLine"))
        #expect(error("HTTP/2.0 200 OK\r\n\r\n").contains("HTTP/2 is not HTTP/1.x"))
        #expect(error("ICY 200 OK\r\n\r\n").hasPrefix("error invalidStatusLine"))
        #expect(error("HTTP/1.1 099 Low\r\n\r\n").hasPrefix("error invalidStatusLine"))
        #expect(error("<html>\r\n").hasPrefix("error invalidStatusLine"))
    }

    @Test("obsolete line folding is rejected")
    func obsFold() {
        #expect(error("HTTP/1.1 200 OK\r\nX-A: 1\r\n  continued\r\n\r\n").hasPrefix("error obsoleteLineFolding"))
    }

    @Test("invalid header lines: no colon, space before colon, bad name")
    func invalidHeaders() {
        #expect(error("HTTP/1.1 200 OK\r\nNoColon\r\n\r\n").hasPrefix("error invalidHeader"))
        #expect(error("HTTP/1.1 200 OK\r\nName : v\r\n\r\n").hasPrefix("error invalidHeader"))
        #expect(error("HTTP/1.1 200 OK\r\n: v\r\n\r\n").hasPrefix("error invalidHeader"))
        #expect(error("HTTP/1.1 200 OK\r\nA: b\rc\r\n\r\n").hasPrefix("error invalidHeader"))
    }

    @Test("negative, non-numeric, overflowing and conflicting Content-Length")
    func contentLength() {
        #expect(error("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n").hasPrefix("error invalidContentLength"))
        #expect(error("HTTP/1.1 200 OK\r\nContent-Length: 1e3\r\n\r\n").hasPrefix("error invalidContentLength"))
        #expect(
            error("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n").hasPrefix(
                "error invalidContentLength"))
        #expect(
            error("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n").hasPrefix(
                "error conflictingContentLength"))
        #expect(error("HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\n").hasPrefix("error conflictingContentLength"))
    }

    @Test("chunk sizes: not hex, empty, overflowing; chunk data without CRLF")
    func chunks() {
        let head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        #expect(error(head + "zz\r\n").hasPrefix("error invalidChunkSize"))
        #expect(error(head + "\r\n").hasPrefix("error invalidChunkSize"))
        #expect(error(head + "-1\r\n").hasPrefix("error invalidChunkSize"))
        #expect(error(head + "10000000000000000\r\n").hasPrefix("error chunkSizeTooLarge"))
        #expect(error(head + "2\r\nabX\r\n").hasPrefix("error missingChunkTerminator"))
    }

    @Test("a transfer coding other than chunked is refused, naming it")
    func transferCoding() {
        let message = error("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n")
        #expect(message.hasPrefix("error unsupportedTransferCoding"))
        #expect(message.contains("gzip"))
    }

    @Test("limits: status line, header line, header block, header count")
    func limits() {
        var limits = HTTPResponseParser.Limits()
        limits.statusLine = 8192
        #expect(
            error("HTTP/1.1 200 " + String(repeating: "x", count: 8200) + "\r\n\r\n").hasPrefix(
                "error statusLineTooLong"))
        let longHeader = "X-Long: " + String(repeating: "y", count: 64 * 1024) + "\r\n"
        #expect(
            parse([Array(("HTTP/1.1 200 OK\r\n" + longHeader + "\r\n").utf8)]).last!.hasPrefix(
                "error headerLineTooLong"))
        let bigHeader = "X-Big: " + String(repeating: "z", count: 60 * 1024) + "\r\n"
        let block = "HTTP/1.1 200 OK\r\n" + String(repeating: bigHeader, count: 5) + "\r\n"
        #expect(parse([Array(block.utf8)]).last!.hasPrefix("error headerBlockTooLarge"))
        let many = "HTTP/1.1 200 OK\r\n" + (0..<201).map { "X-\($0): v\r\n" }.joined() + "\r\n"
        #expect(parse([Array(many.utf8)]).last!.hasPrefix("error tooManyHeaders"))
    }

    @Test("truncation: inside the head, short of Content-Length, before the last chunk; and no response at all")
    func truncation() {
        #expect(error("", eof: true).hasPrefix("error closedBeforeResponse"))
        #expect(error("HTTP/1.1 200 OK\r\nContent-", eof: true).hasPrefix("error truncated"))
        let short = error("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", eof: true)
        #expect(short.hasPrefix("error truncated"))
        #expect(short.contains("after 3 of the 10 bytes"))
        #expect(
            error("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n", eof: true).hasPrefix(
                "error truncated"))
    }

    @Test("bytes after a complete response, and an unasked 101, are errors")
    func unexpected() {
        #expect(error("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nxEXTRA").hasPrefix("error unexpectedData"))
        #expect(error("HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n").hasPrefix("error unexpectedUpgrade"))
    }

    @Test("errors say where: the byte offset of the problem")
    func offsets() {
        // The head is 47 bytes: the bad chunk-size line starts right after it.
        #expect(error("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n").contains("@47"))
        #expect(error("HTTP/1.1 200 OK\r\nBad Header: 1\r\n\r\n").contains("@17"))
    }
}
