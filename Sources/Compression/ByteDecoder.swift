/// A streaming decoder over caller-owned buffers. `decode` takes what it can of `input` while `output` has room and
/// returns how much it consumed and produced; it always makes progress unless it needs more input (and then it has
/// taken all of it). A full `output` may leave more waiting inside: call again, with the rest of the input or none.
/// At the end, `endInput` says no more input will come (what was held back to decide something is decided), the
/// caller drains with empty input, then `finish` throws when the stream is not complete.
@_spi(Internals) public protocol ByteDecoder: AnyObject {
    func decode(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws(CompressionError)
        -> (consumed: Int, produced: Int)
    func endInput()
    func finish() throws(CompressionError)
}

extension ByteDecoder {
    public func endInput() {}
}

extension UnsafeRawBufferPointer {
    func from(_ start: Int) -> UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: self[start...]) }
}

/// `withUnsafeBytes` keeping the typed error (the standard library's rethrows `any Error`).
func withBytes<R>(_ array: [UInt8], _ body: (UnsafeRawBufferPointer) throws(CompressionError) -> R)
    throws(CompressionError) -> R
{
    let result: Result<R, CompressionError> = array.withUnsafeBytes { bytes in
        do throws(CompressionError) { return .success(try body(bytes)) } catch { return .failure(error) }
    }
    return try result.get()
}

extension UnsafeMutableRawBufferPointer {
    func from(_ start: Int) -> UnsafeMutableRawBufferPointer { UnsafeMutableRawBufferPointer(rebasing: self[start...]) }
}

/// Bytes as they are (a `.gz` URL whose body is not gzip); one copy.
final class IdentityDecoder: ByteDecoder {
    func decode(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) -> (
        consumed: Int, produced: Int
    ) {
        let count = min(input.count, output.count)
        if count > 0 { output.baseAddress!.copyMemory(from: input.baseAddress!, byteCount: count) }
        return (count, count)
    }

    func finish() {}
}

/// gzip (RFC 1952), one member after another as `gunzip` and Python read them; zero bytes after a member are
/// padding. A stream that stops before a member's trailer, or whose CRC or size differ from it, is a truncation.
final class GzipDecoder: ByteDecoder {
    private enum State {
        case header(GzipHeaderParser)
        case body
        case trailer(GzipTrailer)
        /// Between members: another header, padding, or the end.
        case between
    }

    private var state = State.header(GzipHeaderParser())
    private let inflater = Inflater(.raw)
    private var crc: UInt32 = 0
    private var size: UInt64 = 0

    func decode(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws(CompressionError)
        -> (consumed: Int, produced: Int)
    {
        var read = 0
        var written = 0
        while true {
            switch state {
            case .header(var parser):
                guard read < input.count else { return (read, written) }
                read += try parser.feed(input.from(read))
                state = parser.isComplete ? .body : .header(parser)
            case .body:
                guard written < output.count else { return (read, written) }
                let (used, made, ended) = try inflater.inflate(input.from(read), into: output.from(written))
                crc = Inflater.crc32(crc, UnsafeRawBufferPointer(rebasing: output[written..<written + made]))
                size += UInt64(made)
                read += used
                written += made
                if ended {
                    state = .trailer(GzipTrailer())
                } else if used == 0 && made == 0 {
                    return (read, written)
                }
            case .trailer(var trailer):
                guard read < input.count else { return (read, written) }
                read += trailer.feed(input.from(read))
                state = .trailer(trailer)
                if trailer.isComplete {
                    try trailer.check(crc: crc, size: size)
                    state = .between
                }
            case .between:
                guard read < input.count else { return (read, written) }
                if input[read] == 0 {
                    read += 1
                } else if input[read] == 0x1f {
                    inflater.reset()
                    crc = 0
                    size = 0
                    state = .header(GzipHeaderParser())
                } else {
                    throw CompressionError(.invalid, "bytes after the gzip stream's end are not another gzip member")
                }
            }
        }
    }

    func finish() throws(CompressionError) {
        switch state {
        case .between: return
        case .header(let parser) where parser.isAtStart && size == 0 && crc == 0:
            throw CompressionError(.invalid, "not gzip (the body is empty)")
        default:
            throw CompressionError(.truncated, "the gzip stream ends before its trailer (truncated)")
        }
    }
}

/// `Content-Encoding: deflate`: zlib-wrapped as RFC 9110 says, or raw deflate as some servers send it (curl and
/// browsers take both): the first two bytes tell which.
final class DeflateDecoder: ByteDecoder {
    private var held: [UInt8] = []
    private var inflater: Inflater?
    private var ended = false

    func decode(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws(CompressionError)
        -> (consumed: Int, produced: Int)
    {
        var read = 0
        if inflater == nil {
            while held.count < 2 && read < input.count {
                held.append(input[read])
                read += 1
            }
            guard held.count == 2 else { return (read, 0) }
            let header = UInt16(held[0]) << 8 | UInt16(held[1])
            inflater = Inflater(held[0] & 0x0f == 8 && header % 31 == 0 ? .zlib : .raw)
        }
        guard let inflater else { return (read, 0) }
        var written = 0
        if !held.isEmpty {
            let (used, made, end) = try withBytes(held) { (bytes) throws(CompressionError) in
                try inflater.inflate(bytes, into: output)
            }
            held.removeFirst(used)
            written += made
            ended = ended || end
            if !held.isEmpty { return (read, written) }
        }
        while !ended && written < output.count {
            let (used, made, end) = try inflater.inflate(input.from(read), into: output.from(written))
            read += used
            written += made
            ended = end
            if used == 0 && made == 0 { break }
        }
        if ended { read = input.count }  // bytes after the stream's end mean nothing
        return (read, written)
    }

    func finish() throws(CompressionError) {
        guard ended else { throw CompressionError(.truncated, "the deflate stream ends before its last block") }
    }
}

/// Two decoders one after the other (`Content-Encoding: gzip` over a `.csv.gz`), through a buffer of its own.
final class ChainDecoder: ByteDecoder {
    private let first: any ByteDecoder
    private let second: any ByteDecoder
    private let middle: UnsafeMutableRawBufferPointer
    private var start = 0
    private var end = 0

    init(_ first: any ByteDecoder, _ second: any ByteDecoder) {
        self.first = first
        self.second = second
        middle = .allocate(byteCount: 64 * 1024, alignment: 8)
    }

    deinit { middle.deallocate() }

    func decode(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws(CompressionError)
        -> (consumed: Int, produced: Int)
    {
        var read = 0
        var written = 0
        while written < output.count {
            // The second may hold output of its own even when the middle is empty.
            let (used, made) = try second.decode(
                UnsafeRawBufferPointer(rebasing: middle[start..<end]), into: output.from(written))
            start += used
            written += made
            if made > 0 { continue }
            if start == end { (start, end) = (0, 0) }
            guard end < middle.count else { break }
            let (taken, passed) = try first.decode(input.from(read), into: middle.from(end))
            read += taken
            end += passed
            if taken == 0 && passed == 0 {
                // The first is drained: at the end of the input, so is the second's input.
                if inputEnded && !secondEnded && start == end {
                    secondEnded = true
                    second.endInput()
                    continue
                }
                break
            }
        }
        return (read, written)
    }

    private var inputEnded = false
    private var secondEnded = false

    func endInput() {
        inputEnded = true
        first.endInput()
    }

    func finish() throws(CompressionError) {
        try first.finish()
        try second.finish()
    }
}

/// Passes its input on as it is, and checks it with `inner` on the way (the decoded bytes are dropped): a gzip
/// source published as gzip is still refused when it is cut or damaged.
final class VerifyingDecoder: ByteDecoder {
    private let inner: any ByteDecoder
    private let scratch: UnsafeMutableRawBufferPointer
    /// What the check decoded: MAX_BYTES and the 100 GiB default hold for it too.
    private(set) var decodedBytes: UInt64 = 0

    init(_ inner: any ByteDecoder) {
        self.inner = inner
        scratch = .allocate(byteCount: 64 * 1024, alignment: 8)
    }

    deinit { scratch.deallocate() }

    func decode(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws(CompressionError)
        -> (consumed: Int, produced: Int)
    {
        let count = min(input.count, output.count)
        guard count > 0 else { return (0, 0) }
        output.baseAddress!.copyMemory(from: input.baseAddress!, byteCount: count)
        try check(UnsafeRawBufferPointer(rebasing: input[0..<count]))
        return (count, count)
    }

    private func check(_ bytes: UnsafeRawBufferPointer) throws(CompressionError) {
        var read = 0
        while true {
            let (used, made) = try inner.decode(bytes.from(read), into: scratch)
            read += used
            decodedBytes += UInt64(made)
            if used == 0 && made == 0 { break }
            if read == bytes.count && made < scratch.count { break }
        }
    }

    func endInput() {
        inner.endInput()
    }

    func finish() throws(CompressionError) {
        try check(UnsafeRawBufferPointer(start: nil, count: 0))
        try inner.finish()
    }
}

/// `compression: "infer"` on a `.gz` or `.zip` URL: the first bytes decide. Compressed as the suffix says → decoded;
/// anything else (a server that already decoded it) → passed on as it is, and `mismatch` tells the caller to warn.
final class SniffingDecoder: ByteDecoder {
    private let method: CompressionMethod
    private let make: () -> any ByteDecoder
    private var held: [UInt8] = []
    private var inner: (any ByteDecoder)?
    private(set) var mismatch = false

    init(_ method: CompressionMethod, decoder make: @escaping () -> any ByteDecoder) {
        self.method = method
        self.make = make
    }

    func decode(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws(CompressionError)
        -> (consumed: Int, produced: Int)
    {
        var read = 0
        if inner == nil {
            while read < input.count, CompressionRule.magicMatches(method, prefix: held) == nil {
                held.append(input[read])
                read += 1
            }
            guard let matches = CompressionRule.magicMatches(method, prefix: held) else { return (read, 0) }
            decide(matches)
        }
        guard let inner else { return (read, 0) }
        var written = 0
        if !held.isEmpty {
            let (used, made) = try withBytes(held) { (bytes) throws(CompressionError) in
                try inner.decode(bytes, into: output)
            }
            held.removeFirst(used)
            written = made
            if !held.isEmpty { return (read, written) }
        }
        let (used, made) = try inner.decode(input.from(read), into: output.from(written))
        return (read + used, written + made)
    }

    private func decide(_ matches: Bool) {
        mismatch = !matches
        inner = matches ? make() : IdentityDecoder()
    }

    /// Too few bytes came to be compressed: they go on as they are (the drain that follows copies them).
    func endInput() {
        if inner == nil { decide(false) }
        inner?.endInput()
    }

    func finish() throws(CompressionError) {
        try inner?.finish()
    }
}
