/// The head of a response: status line and header fields.
public struct HTTPResponseHead: Sendable, Equatable {
    public var version: (major: Int, minor: Int)
    public var status: Int
    public var reason: String
    public var headers: HTTPHeaders

    public static func == (lhs: HTTPResponseHead, rhs: HTTPResponseHead) -> Bool {
        lhs.version == rhs.version && lhs.status == rhs.status && lhs.reason == rhs.reason
            && lhs.headers == rhs.headers
    }
}

/// An incremental HTTP/1.1 response parser (RFC 9112): fed arbitrary chunks of bytes, it reports the head, the body
/// bytes (slices of the input, never copied) and the end, and gives the same events however the input is split.
/// It does no I/O; the client drives it.
@_spi(Internals) public struct HTTPResponseParser {
    public struct Limits: Sendable {
        public var statusLine = 8 * 1024
        public var headerLine = 64 * 1024
        public var headerBlock = 256 * 1024
        public var headerCount = 200
        public var chunkSizeLine = 4 * 1024

        public init() {}
    }

    public enum Event {
        /// An interim response (1xx other than 101), for the trace: the final one follows.
        case interim(HTTPResponseHead)
        case head(HTTPResponseHead)
        /// A slice of the bytes passed to `feed`, valid only during the callback.
        case body(UnsafeRawBufferPointer)
        /// The response is complete. `keepAlive`: the connection may carry another request.
        case end(keepAlive: Bool)
    }

    private enum State {
        case statusLine
        case headerLine
        case fixedBody(remaining: UInt64)
        case chunkSizeLine
        case chunkData(remaining: UInt64)
        case chunkDataEnd
        case trailerLine
        case bodyUntilClose
        case complete
    }

    public let limits: Limits
    private var state = State.statusLine
    private var requestMethod: String
    private var line: [UInt8] = []
    private var head = HTTPResponseHead(version: (1, 1), status: 0, reason: "", headers: HTTPHeaders())
    private var headerBytes = 0
    private var trailerCount = 0
    /// Where the line being collected began: line errors point there, whatever the input's split.
    private var lineStart: UInt64 = 0
    private var keepAlive = false
    private var bodyExpected: UInt64 = 0
    /// Bytes of this response consumed so far, for error positions.
    public private(set) var offset: UInt64 = 0

    public init(requestMethod: String = "GET", limits: Limits = Limits()) {
        self.limits = limits
        self.requestMethod = requestMethod
        line.reserveCapacity(256)
    }

    /// Prepares for the next response on the same connection (keep-alive).
    public mutating func reset(requestMethod: String) {
        self = HTTPResponseParser(requestMethod: requestMethod, limits: limits)
    }

    public var isComplete: Bool {
        if case .complete = state { return true }
        return false
    }

    /// True once the first byte of the response arrived (a stale kept-alive connection sends none).
    public var hasStarted: Bool { offset > 0 }

    // MARK: feeding

    /// Parses `bytes`, reporting events to `emit`. When `emit` returns false (its consumer paused), parsing stops
    /// right after that event; the return value is how many bytes were consumed, and the caller feeds the rest later.
    @discardableResult
    public mutating func feed(
        _ bytes: UnsafeRawBufferPointer, _ emit: (Event) throws(HTTPParseError) -> Bool
    ) throws(HTTPParseError) -> Int {
        var index = 0
        let count = bytes.count
        // Body bytes, the hot path, go to `emit` directly; the rarer events go through a closure that captures a flag
        // of its own, declared only where they happen (a captured variable is boxed on the heap in unoptimised builds).
        var goOn = true
        while index < count && goOn {
            switch state {
            case .fixedBody(let remaining):
                let take = Int(min(remaining, UInt64(count - index)))
                if try !emit(.body(UnsafeRawBufferPointer(rebasing: bytes[index..<(index + take)]))) { goOn = false }
                advance(&index, by: take)
                if remaining == UInt64(take) {
                    var accepted = true
                    try finishMessage { (event) throws(HTTPParseError) in if try !emit(event) { accepted = false } }
                    if !accepted { goOn = false }
                } else {
                    state = .fixedBody(remaining: remaining - UInt64(take))
                }
            case .chunkData(let remaining):
                let take = Int(min(remaining, UInt64(count - index)))
                if try !emit(.body(UnsafeRawBufferPointer(rebasing: bytes[index..<(index + take)]))) { goOn = false }
                advance(&index, by: take)
                state = remaining == UInt64(take) ? .chunkDataEnd : .chunkData(remaining: remaining - UInt64(take))
            case .bodyUntilClose:
                if try !emit(.body(UnsafeRawBufferPointer(rebasing: bytes[index...]))) { goOn = false }
                advance(&index, by: count - index)
            case .complete:
                throw HTTPParseError(.unexpectedData, at: offset, "the server sent data after the end of the response")
            case .statusLine, .headerLine, .chunkSizeLine, .chunkDataEnd, .trailerLine:
                // Lines: collect up to LF (a bare LF is accepted, RFC 9112 §2.2), then handle the whole line.
                if line.isEmpty { lineStart = offset }
                var end = index
                while end < count && bytes[end] != 10 { end += 1 }
                let limit = lineLimit
                if line.count + (end - index) > limit {
                    throw lineTooLong(limit)
                }
                line.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[index..<end]))
                advance(&index, by: end - index)
                guard end < count else { return index }
                advance(&index, by: 1)
                if line.last == 13 { line.removeLast() }
                var accepted = true
                try handleLine { (event) throws(HTTPParseError) in if try !emit(event) { accepted = false } }
                if !accepted { goOn = false }
                line.removeAll(keepingCapacity: true)
            }
        }
        return index
    }

    /// The connection reached its end (EOF). Ends a close-delimited body; anything else unfinished is an error.
    public mutating func finish(_ emit: (Event) throws(HTTPParseError) -> Bool) throws(HTTPParseError) {
        func forward(_ event: Event) throws(HTTPParseError) { _ = try emit(event) }
        switch state {
        case .complete:
            return
        case .bodyUntilClose:
            state = .complete
            try forward(.end(keepAlive: false))
        case .statusLine where offset == 0:
            throw HTTPParseError(.closedBeforeResponse, at: 0, "the server closed the connection before responding")
        case .statusLine, .headerLine:
            throw HTTPParseError(.truncated, at: offset, "the connection closed inside the response head")
        case .fixedBody(let remaining):
            throw HTTPParseError(
                .truncated, at: offset,
                "the body ended after \(bodyExpected - remaining) of the \(bodyExpected) bytes "
                    + "announced by Content-Length"
            )
        case .chunkSizeLine, .chunkData, .chunkDataEnd, .trailerLine:
            throw HTTPParseError(
                .truncated, at: offset, "the connection closed before the end of the chunked body (no final chunk)")
        }
    }

    @inline(__always)
    private mutating func advance(_ index: inout Int, by count: Int) {
        index += count
        offset += UInt64(count)
    }

    private var lineLimit: Int {
        switch state {
        case .statusLine: return limits.statusLine
        case .chunkSizeLine, .chunkDataEnd: return limits.chunkSizeLine
        default: return limits.headerLine
        }
    }

    private func lineTooLong(_ limit: Int) -> HTTPParseError {
        let offset = lineStart + UInt64(limit)
        switch state {
        case .statusLine:
            return HTTPParseError(.statusLineTooLong, at: offset, "the status line is longer than \(limit) bytes")
        case .chunkSizeLine, .chunkDataEnd:
            return HTTPParseError(.invalidChunkSize, at: offset, "a chunk-size line is longer than \(limit) bytes")
        default:
            return HTTPParseError(.headerLineTooLong, at: offset, "a header line is longer than \(limit) bytes")
        }
    }

    // MARK: lines

    private mutating func handleLine(_ emit: (Event) throws(HTTPParseError) -> Void) throws(HTTPParseError) {
        switch state {
        case .statusLine:
            try parseStatusLine()
            state = .headerLine
        case .headerLine:
            if line.isEmpty {
                try endOfHead(emit)
            } else {
                let field = try parseHeaderLine(fieldsSoFar: head.headers.fields.count)
                head.headers.add(field.name, field.value)
            }
        case .chunkSizeLine:
            try parseChunkSize(emit)
        case .chunkDataEnd:
            guard line.isEmpty else {
                throw HTTPParseError(.missingChunkTerminator, at: lineStart, "chunk data is not followed by CRLF")
            }
            state = .chunkSizeLine
        case .trailerLine:
            if line.isEmpty {
                try finishMessage(emit)
            } else {
                // Trailers are validated and counted, then dropped: nothing here needs them.
                _ = try parseHeaderLine(fieldsSoFar: trailerCount)
                trailerCount += 1
            }
        default:
            preconditionFailure("handleLine outside a line state")
        }
    }

    private mutating func parseStatusLine() throws(HTTPParseError) {
        // HTTP-version SP status-code SP [reason-phrase] (RFC 9112 §4)
        let bytes = line
        func invalid(_ why: String) -> HTTPParseError {
            let shown = String(decoding: bytes.prefix(60), as: UTF8.self)
            return HTTPParseError(.invalidStatusLine, at: lineStart, "invalid status line '\(shown)': \(why)")
        }
        guard bytes.count >= 12, bytes.starts(with: Array("HTTP/".utf8)),
            let major = Self.digit(bytes[5]), bytes[6] == UInt8(ascii: "."), let minor = Self.digit(bytes[7]),
            bytes[8] == 32
        else { throw invalid("expected 'HTTP/1.x NNN'") }
        guard major == 1 else { throw invalid("HTTP/\(major) is not HTTP/1.x") }
        guard let d0 = Self.digit(bytes[9]), let d1 = Self.digit(bytes[10]), let d2 = Self.digit(bytes[11]),
            d0 >= 1
        else { throw invalid("bad status code") }
        guard bytes.count == 12 || bytes[12] == 32 else { throw invalid("no space after the status code") }
        let reasonBytes = bytes.count > 13 ? bytes[13...] : []
        guard !reasonBytes.contains(where: { $0 < 32 && $0 != 9 || $0 == 127 }) else {
            throw invalid("control character in the reason phrase")
        }
        head.version = (major, minor)
        head.status = d0 * 100 + d1 * 10 + d2
        head.reason = String(decoding: reasonBytes, as: UTF8.self)
    }

    private mutating func parseHeaderLine(fieldsSoFar: Int) throws(HTTPParseError) -> (name: String, value: String) {
        if line[0] == 32 || line[0] == 9 {
            throw HTTPParseError(
                .obsoleteLineFolding, at: lineStart, "a header line starts with whitespace (obsolete line folding)")
        }
        headerBytes += line.count + 2
        guard headerBytes <= limits.headerBlock else {
            throw HTTPParseError(
                .headerBlockTooLarge, at: lineStart, "the header block is larger than \(limits.headerBlock) bytes")
        }
        guard fieldsSoFar < limits.headerCount else {
            throw HTTPParseError(.tooManyHeaders, at: lineStart, "more than \(limits.headerCount) header fields")
        }
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon > 0,
            line[..<colon].allSatisfy(ASCII.isTokenCharacter)
        else {
            let shown = String(decoding: line.prefix(60), as: UTF8.self)
            throw HTTPParseError(.invalidHeader, at: lineStart, "invalid header line '\(shown)'")
        }
        let value = line[(colon + 1)...]
        guard !value.contains(where: { $0 == 0 || $0 == 13 || $0 == 10 }) else {
            throw HTTPParseError(.invalidHeader, at: lineStart, "a header value holds NUL or CR")
        }
        return (String(decoding: line[..<colon], as: UTF8.self), String(decoding: value, as: UTF8.self).trimmingOWS())
    }

    private mutating func endOfHead(_ emit: (Event) throws(HTTPParseError) -> Void) throws(HTTPParseError) {
        let status = head.status
        if status >= 100 && status < 200 {
            if status == 101 {
                throw HTTPParseError(.unexpectedUpgrade, at: lineStart, "the server switched protocols unasked (101)")
            }
            // An interim response (100 Continue, 103 Early Hints): reported, then the final one is read.
            try emit(.interim(head))
            head.headers = HTTPHeaders()
            headerBytes = 0
            state = .statusLine
            return
        }
        let connection = head.headers.values("Connection").map { $0.lowercasedASCII() }
        keepAlive =
            head.version.minor >= 1 ? !connection.contains("close") : connection.contains("keep-alive")
        try emit(.head(head))

        // A 2xx to CONNECT opens a tunnel: what follows belongs to the tunnel (RFC 9110 §9.3.6).
        if requestMethod == "HEAD" || status == 204 || status == 304
            || (requestMethod == "CONNECT" && status >= 200 && status < 300)
        {
            return try finishMessage(emit)
        }
        let codings = head.headers.values("Transfer-Encoding").map { $0.lowercasedASCII() }
        if !codings.isEmpty {
            // Chunked must be last, and is the only coding we decode (we ask for none: Accept-Encoding is identity).
            guard codings == ["chunked"] else {
                throw HTTPParseError(
                    .unsupportedTransferCoding, at: lineStart,
                    "unsupported Transfer-Encoding '\(codings.joined(separator: ", "))': only chunked is decoded")
            }
            state = .chunkSizeLine
            return
        }
        let lengths = head.headers.values("Content-Length")
        if let first = lengths.first {
            guard let length = Self.decimal(first) else {
                throw HTTPParseError(.invalidContentLength, at: lineStart, "invalid Content-Length '\(first)'")
            }
            guard lengths.allSatisfy({ Self.decimal($0) == length }) else {
                throw HTTPParseError(
                    .conflictingContentLength, at: lineStart,
                    "conflicting Content-Length values: \(lengths.joined(separator: ", "))")
            }
            bodyExpected = length
            if length == 0 { return try finishMessage(emit) }
            state = .fixedBody(remaining: length)
            return
        }
        keepAlive = false
        state = .bodyUntilClose
    }

    private mutating func parseChunkSize(_ emit: (Event) throws(HTTPParseError) -> Void) throws(HTTPParseError) {
        // chunk-size [ chunk-ext ] (RFC 9112 §7.1); extensions are ignored.
        var size: UInt64 = 0
        var digits = 0
        for byte in line {
            guard let value = Self.hexDigit(byte) else {
                guard digits > 0, byte == UInt8(ascii: ";") || byte == 32 || byte == 9 else {
                    let shown = String(decoding: line.prefix(40), as: UTF8.self)
                    throw HTTPParseError(.invalidChunkSize, at: lineStart, "invalid chunk size '\(shown)'")
                }
                break
            }
            guard size <= (UInt64.max >> 4) else {
                throw HTTPParseError(.chunkSizeTooLarge, at: lineStart, "chunk size overflows 64 bits")
            }
            size = size << 4 | UInt64(value)
            digits += 1
        }
        guard digits > 0 else { throw HTTPParseError(.invalidChunkSize, at: lineStart, "empty chunk size") }
        state = size == 0 ? .trailerLine : .chunkData(remaining: size)
    }

    private mutating func finishMessage(_ emit: (Event) throws(HTTPParseError) -> Void) throws(HTTPParseError) {
        state = .complete
        try emit(.end(keepAlive: keepAlive))
    }

    // MARK: numbers

    static func digit(_ byte: UInt8) -> Int? {
        byte >= 48 && byte <= 57 ? Int(byte - 48) : nil
    }

    static func hexDigit(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 48...57: return byte - 48
        case 65...70: return byte - 55
        case 97...102: return byte - 87
        default: return nil
        }
    }

    /// A non-negative decimal that fits in 63 bits, digits only (no sign, no space).
    static func decimal(_ text: String) -> UInt64? {
        guard !text.isEmpty, text.utf8.count <= 18, text.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return nil }
        return text.utf8.reduce(0) { $0 * 10 + UInt64($1 - 48) }
    }
}
