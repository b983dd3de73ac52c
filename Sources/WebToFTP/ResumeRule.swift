@_spi(Internals) import HTTP1

/// The validator a resumed request sends in `If-Range` (RFC 9110 §13.1.5): a strong one only, so that the bytes
/// after the checkpoint come from the very representation the bytes before it came from.
@_spi(Internals) public enum ResumeValidator: Equatable, Sendable {
    case etag(String)
    case lastModified(String)

    public var headerValue: String {
        switch self {
        case .etag(let value), .lastModified(let value): return value
        }
    }
}

/// When an interrupted transfer may go on where it stopped instead of starting over (#18), and what the resumed
/// response means. Pure: the transfer asks, the tests table it.
@_spi(Internals) public enum ResumeRule {
    /// RFC 9110 §8.8.2.2: a Last-Modified is strong only when at least this many seconds before the response's Date
    /// (a file changed within the same second could carry the same date).
    public static let lastModifiedMargin: Int64 = 60

    /// The response's strong validator: an ETag without `W/`, else a Last-Modified at least 60 s before its Date.
    public static func strongValidator(etag: String?, lastModified: String?, date: String?) -> ResumeValidator? {
        if let etag = etag.map(trimmed), !etag.isEmpty {
            // RFC 9110 §13.1.5: a client that has an entity tag must not send a date in If-Range — a weak or
            // malformed one means no resume at all, not a fall-back to Last-Modified.
            return !etag.hasPrefix("W/") && etag.hasPrefix("\"") ? .etag(etag) : nil
        }
        guard let lastModified = lastModified.map(trimmed), let modified = HTTPDate.parse(lastModified),
            let date = date.flatMap({ HTTPDate.parse(trimmed($0)) }), date - modified >= lastModifiedMargin
        else { return nil }
        return .lastModified(lastModified)
    }

    /// What makes a response resumable: its body is the published file byte for byte (no transform, no content
    /// coding, nothing decompressed or compressed on the way), the server takes byte ranges, and a strong validator
    /// ties a later range to this representation. Nil: a failure restarts from zero, as before.
    public static func validator(
        status: Int, headers: HTTPHeaders, transforms: Bool, bytesPassUnchanged: Bool
    ) -> ResumeValidator? {
        guard status == 200, !transforms, bytesPassUnchanged else { return nil }
        let codings = headers.values("Content-Encoding").flatMap { $0.split(separator: ",") }.map {
            trimmed(String($0))
        }
        guard codings.allSatisfy({ $0.isEmpty || $0.lowercased() == "identity" }) else { return nil }
        let ranges = headers.values("Accept-Ranges").flatMap { $0.split(separator: ",") }.map {
            trimmed(String($0)).lowercased()
        }
        guard ranges.contains("bytes") else { return nil }
        return strongValidator(etag: headers["ETag"], lastModified: headers["Last-Modified"], date: headers["Date"])
    }

    /// Where a resumed attempt starts: the largest checkpoint at or below the temporary file's size on the server,
    /// when the server can append to it (REST STREAM and SIZE in FEAT) and SIZE found it; 0 (from zero) otherwise.
    public static func startOffset(serverResumes: Bool, temporarySize: UInt64?, checkpoints: [UInt64]) -> UInt64 {
        guard serverResumes, let temporarySize else { return 0 }
        return checkpoints.filter { $0 <= temporarySize }.max() ?? 0
    }

    /// The headers of the resumed request: the rest of the body, only if it is still the same representation, and
    /// never content-coded (a range of a gzip coding is not a range of the file).
    public static func requestHeaders(from offset: UInt64, validator: ResumeValidator) -> [(String, String)] {
        [("Range", "bytes=\(offset)-"), ("If-Range", validator.headerValue), ("Accept-Encoding", "identity")]
    }

    public enum Answer: Equatable, Sendable {
        /// A 206 for exactly the asked range of the same representation: append its body at `offset`.
        case continueFrom(UInt64)
        /// The whole representation came instead (200: the If-Range did not match, or ranges are not served
        /// after all): publish it from zero, in this attempt.
        case restart(reason: String)
        /// Not usable for a resume, and not a whole body either (a 206 for another range, or another
        /// representation): ask again from zero.
        case refetch(reason: String)
    }

    /// What the response to a resumed request from `offset` means.
    /// `total`: the length the first response announced (Content-Length), when it did.
    public static func answer(
        status: Int, headers: HTTPHeaders, offset: UInt64, validator: ResumeValidator, total: UInt64? = nil
    ) -> Answer {
        if status == 200 {
            return .restart(reason: "the server sent the whole body (200), not the range from \(offset)")
        }
        guard status == 206 else { return .refetch(reason: "the server answered \(status) to the range request") }
        switch validator {
        case .etag(let expected):
            guard let etag = headers["ETag"].map(trimmed), etag == expected else {
                return .refetch(reason: "the range came with another ETag (\(headers["ETag"] ?? "none"))")
            }
        case .lastModified(let expected):
            if let etag = headers["ETag"].map(trimmed), etag.hasPrefix("W/") {
                return .refetch(reason: "the range came with a weak ETag")
            }
            guard let modified = headers["Last-Modified"], HTTPDate.parse(trimmed(modified)) == HTTPDate.parse(expected)
            else {
                return .refetch(
                    reason: "the range came with another Last-Modified (\(headers["Last-Modified"] ?? "none"))")
            }
        }
        guard headers.values("Content-Range").count == 1, let range = contentRange(headers["Content-Range"] ?? ""),
            range.first == offset
        else {
            return .refetch(
                reason: "the range came as \(headers["Content-Range"] ?? "no Content-Range"), not from \(offset)")
        }
        // A server may send less than was asked (RFC 9110 §14.2): appending a range that stops short would pass the
        // upload's SIZE check (it counts the bytes sent) and publish a truncated file.
        guard let complete = range.total, range.last + 1 == complete, total == nil || total == complete else {
            return .refetch(
                reason: "the range came as \(headers["Content-Range"] ?? ""), not to the end of the "
                    + (total.map { "\($0) bytes" } ?? "representation"))
        }
        return .continueFrom(offset)
    }

    /// `bytes first-last/complete` (RFC 9110 §14.4): the first byte, the last, the total (nil when `*`).
    public static func contentRange(_ value: String) -> (first: UInt64, last: UInt64, total: UInt64?)? {
        let text = trimmed(value)
        guard text.lowercased().hasPrefix("bytes ") else { return nil }
        let spec = trimmed(String(text.dropFirst(6)))
        let halves = spec.split(separator: "/", omittingEmptySubsequences: false)
        guard halves.count == 2 else { return nil }
        let bounds = halves[0].split(separator: "-", omittingEmptySubsequences: false)
        guard bounds.count == 2, let first = digits(bounds[0]), let last = digits(bounds[1]), first <= last else {
            return nil
        }
        if halves[1] == "*" { return (first, last, nil) }
        guard let total = digits(halves[1]), last < total else { return nil }
        return (first, last, total)
    }

    private static func digits(_ text: Substring) -> UInt64? {
        guard !text.isEmpty, text.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return UInt64(text)
    }

    private static func trimmed(_ text: String) -> String {
        var view = Substring(text)
        while let first = view.first, first == " " || first == "\t" { view = view.dropFirst() }
        while let last = view.last, last == " " || last == "\t" { view = view.dropLast() }
        return String(view)
    }
}
