@_spi(Internals) import FTP
@_spi(Internals) import HTTP1
import Testing

@_spi(Internals) @testable import WebToFTP

/// Issue #18 part 3, the pure parts: which responses may be resumed, and what a resumed response means.
@Suite("resume: validators, Accept-Ranges, the 206/200 answer")
struct ResumeRuleTests {
    static let date = "Tue, 01 Dec 2026 21:00:00 GMT"

    static func headers(_ fields: [(String, String)]) -> HTTPHeaders { HTTPHeaders(fields) }

    @Test(
        "a strong validator: an ETag without W/, or a Last-Modified at least 60 s before the Date",
        arguments: [
            ("\"abc\"", nil, nil, ResumeValidator.etag("\"abc\"")),
            ("W/\"abc\"", nil, nil, nil),
            // An entity tag present, weak: no date in If-Range then (RFC 9110 §13.1.5), so no resume.
            ("W/\"abc\"", "Tue, 01 Dec 2026 20:00:00 GMT", date, nil),
            ("unquoted", "Tue, 01 Dec 2026 20:00:00 GMT", date, nil),
            (nil, "Tue, 01 Dec 2026 20:59:00 GMT", date, .lastModified("Tue, 01 Dec 2026 20:59:00 GMT")),
            (nil, "Tue, 01 Dec 2026 20:59:01 GMT", date, nil),
            (nil, "Tue, 01 Dec 2026 21:00:00 GMT", date, nil),
            (nil, "Tue, 01 Dec 2026 20:00:00 GMT", nil, nil),
            (nil, "not a date", date, nil),
            (nil, nil, date, nil),
            ("", nil, nil, nil),
            ("unquoted", nil, nil, nil),
        ] as [(String?, String?, String?, ResumeValidator?)])
    func strongValidator(etag: String?, lastModified: String?, date: String?, expected: ResumeValidator?) {
        #expect(ResumeRule.strongValidator(etag: etag, lastModified: lastModified, date: date) == expected)
    }

    static let ranged: [(String, String)] = [("ETag", "\"v1\""), ("Accept-Ranges", "bytes")]

    @Test(
        "resumable only as a 200, untransformed, identity, with Accept-Ranges: bytes and a strong validator",
        arguments: [
            (200, ranged, false, true, true),
            (200, ranged + [("Content-Encoding", "identity")], false, true, true),
            (200, ranged, true, true, false),
            (200, ranged, false, false, false),
            (206, ranged, false, true, false),
            (200, ranged + [("Content-Encoding", "gzip")], false, true, false),
            (200, [("ETag", "\"v1\""), ("Accept-Ranges", "none")], false, true, false),
            (200, [("ETag", "\"v1\"")], false, true, false),
            (200, [("ETag", "W/\"v1\""), ("Accept-Ranges", "bytes")], false, true, false),
            (200, [("ETag", "\"v1\""), ("Accept-Ranges", "Bytes")], false, true, true),
        ] as [(Int, [(String, String)], Bool, Bool, Bool)])
    func resumable(status: Int, fields: [(String, String)], transforms: Bool, unchanged: Bool, expected: Bool) {
        let validator = ResumeRule.validator(
            status: status, headers: Self.headers(fields), transforms: transforms, bytesPassUnchanged: unchanged)
        #expect((validator != nil) == expected)
    }

    @Test("the resumed request: Range from the checkpoint, If-Range, identity")
    func requestHeaders() {
        let fields = ResumeRule.requestHeaders(from: 8_388_608, validator: .etag("\"v1\""))
        #expect(fields.map(\.0) == ["Range", "If-Range", "Accept-Encoding"])
        #expect(fields.map(\.1) == ["bytes=8388608-", "\"v1\"", "identity"])
    }

    static let lastModified = "Tue, 01 Dec 2026 20:00:00 GMT"

    @Test(
        "the answer to a resumed request",
        arguments: [
            (
                206, [("ETag", "\"v1\""), ("Content-Range", "bytes 100-199/200")], ResumeValidator.etag("\"v1\""),
                "continue"
            ),
            // A range that stops short of the end, or of an unknown end, would publish a truncated file.
            (206, [("ETag", "\"v1\""), ("Content-Range", "bytes 100-199/*")], .etag("\"v1\""), "refetch"),
            (206, [("ETag", "\"v1\""), ("Content-Range", "bytes 100-149/200")], .etag("\"v1\""), "refetch"),
            (200, [("ETag", "\"v2\"")], .etag("\"v1\""), "restart"),
            (200, [("ETag", "\"v1\"")], .etag("\"v1\""), "restart"),
            (206, [("ETag", "\"v2\""), ("Content-Range", "bytes 100-199/200")], .etag("\"v1\""), "refetch"),
            (206, [("Content-Range", "bytes 100-199/200")], .etag("\"v1\""), "refetch"),
            (206, [("ETag", "\"v1\""), ("Content-Range", "bytes 0-199/200")], .etag("\"v1\""), "refetch"),
            (206, [("ETag", "\"v1\"")], .etag("\"v1\""), "refetch"),
            (206, [("ETag", "\"v1\""), ("Content-Range", "bytes 100-99/200")], .etag("\"v1\""), "refetch"),
            (206, [("ETag", "\"v1\""), ("Content-Range", "bytes 100-200/200")], .etag("\"v1\""), "refetch"),
            (416, [], .etag("\"v1\""), "refetch"),
            (
                206, [("Last-Modified", lastModified), ("Content-Range", "bytes 100-199/200")],
                .lastModified(lastModified),
                "continue"
            ),
            (
                206, [("Last-Modified", "Tue, 01 Dec 2026 20:00:01 GMT"), ("Content-Range", "bytes 100-199/200")],
                .lastModified(lastModified), "refetch"
            ),
            (
                206, [("ETag", "W/\"x\""), ("Last-Modified", lastModified), ("Content-Range", "bytes 100-199/200")],
                .lastModified(lastModified), "refetch"
            ),
        ] as [(Int, [(String, String)], ResumeValidator, String)])
    func answer(status: Int, fields: [(String, String)], validator: ResumeValidator, expected: String) {
        let answer = ResumeRule.answer(status: status, headers: Self.headers(fields), offset: 100, validator: validator)
        switch answer {
        case .continueFrom(let offset): #expect(expected == "continue" && offset == 100)
        case .restart: #expect(expected == "restart")
        case .refetch: #expect(expected == "refetch")
        }
    }

    @Test("a 206 must end where the first response's Content-Length said the body ends")
    func rangeEndsAtTheKnownLength() {
        let fields = Self.headers([("ETag", "\"v1\""), ("Content-Range", "bytes 100-199/200")])
        let same = ResumeRule.answer(status: 206, headers: fields, offset: 100, validator: .etag("\"v1\""), total: 200)
        #expect(same == .continueFrom(100))
        let other = ResumeRule.answer(status: 206, headers: fields, offset: 100, validator: .etag("\"v1\""), total: 300)
        #expect(other != .continueFrom(100))
    }

    @Test(
        "Content-Range parsed",
        arguments: [
            ("bytes 0-9/10", true), ("bytes 5-9/*", true), ("bytes 5-9", false), ("bytes */10", false),
            ("items 0-9/10", false), ("bytes 9-5/10", false), ("bytes 0-10/10", false), ("bytes -1-9/10", false),
        ])
    func contentRange(value: String, valid: Bool) {
        #expect((ResumeRule.contentRange(value) != nil) == valid)
    }
}

@Suite("resume: where the retry starts")
struct ResumeStartTests {
    static let mib: UInt64 = 1 << 20

    @Test(
        "the largest checkpoint at or below the temporary file's size, only when the server resumes and SIZE found it",
        arguments: [
            (true, 60 * mib + 5, 56 * mib), (true, 56 * mib, 56 * mib), (true, 56 * mib - 1, 48 * mib),
            (true, 7 * mib, 0), (false, 60 * mib, 0), (true, nil, 0),
        ] as [(Bool, UInt64?, UInt64)])
    func start(resumes: Bool, size: UInt64?, expected: UInt64) {
        let checkpoints = (0...7).map { UInt64($0) * 8 * Self.mib }
        #expect(
            ResumeRule.startOffset(serverResumes: resumes, temporarySize: size, checkpoints: checkpoints) == expected)
    }
}

@Suite("resume: when a failed attempt keeps its temporary upload")
struct ResumeKeepTests {
    static let etag = ResumeValidator.etag("\"v1\"")

    @Test(
        "kept only for a transient failure of a resumable response, on a server that appends, past a checkpoint",
        arguments: [
            (true, etag, true, UInt64(8 << 20), true),
            (true, etag, true, UInt64(64 << 20), true),
            (false, etag, true, UInt64(8 << 20), false),  // permanent: no retry will come
            (true, nil, true, UInt64(8 << 20), false),  // no strong validator, no ranges, or transformed
            (true, etag, false, UInt64(8 << 20), false),  // no REST STREAM or no SIZE
            (true, etag, true, UInt64(0), false),  // not one checkpoint passed: nothing to save
        ] as [(Bool, ResumeValidator?, Bool, UInt64, Bool)])
    func keeps(transient: Bool, validator: ResumeValidator?, serverResumes: Bool, checkpoint: UInt64, kept: Bool) {
        #expect(
            ResumeRule.keepsUpload(
                transient: transient, validator: validator, serverResumes: serverResumes, largestCheckpoint: checkpoint)
                == kept)
    }

    @Test(
        "the FTP side resumes with REST STREAM and SIZE both in FEAT",
        arguments: [
            (["REST", "SIZE"], ["REST": "STREAM"], true),
            (["REST", "SIZE"], [:], false),
            (["REST"], ["REST": "STREAM"], false),
            (["SIZE"], [:], false),
        ] as [([String], [String: String], Bool)])
    func serverResumes(names: [String], parameters: [String: String], expected: Bool) {
        #expect(ResumeRule.serverResumes(FTPFeatures(Set(names), parameters: parameters)) == expected)
    }
}
