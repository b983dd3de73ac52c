internal import CZlib

/// zlib's inflate over caller-owned buffers: no allocation per call. The `z_stream` lives at a fixed address (zlib
/// keeps a pointer back to it in its state and refuses a moved one).
final class Inflater {
    enum Format {
        /// Raw deflate (RFC 1951): inside gzip and ZIP, whose headers we read ourselves.
        case raw
        /// zlib-wrapped (RFC 1950): `Content-Encoding: deflate` as the RFC means it; zlib checks the Adler-32.
        case zlib
    }

    private let stream: UnsafeMutablePointer<z_stream>

    init(_ format: Format) {
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        let status = czlib_inflate_init2(stream, format == .raw ? -15 : 15)
        // Only Z_MEM_ERROR (or a zlib built for another z_stream) can fail here: nothing a caller could handle.
        precondition(status == Z_OK, "inflateInit2 failed: \(status)")
    }

    deinit {
        inflateEnd(stream)
        stream.deallocate()
    }

    /// Ready for the next gzip member.
    func reset() {
        inflateReset(stream)
    }

    /// Inflates from `input` into `output`. `ended`: the deflate stream's last block is done (what follows is the
    /// container's: a trailer, a data descriptor). Neither consuming nor producing means it needs more input.
    func inflate(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws(CompressionError)
        -> (consumed: Int, produced: Int, ended: Bool)
    {
        guard !output.isEmpty else { return (0, 0, false) }
        stream.pointee.next_in = UnsafeMutablePointer(
            mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
        stream.pointee.avail_in = uInt(input.count)
        stream.pointee.next_out = output.baseAddress!.assumingMemoryBound(to: Bytef.self)
        stream.pointee.avail_out = uInt(output.count)
        let status = zlibInflate(stream)
        let consumed = input.count - Int(stream.pointee.avail_in)
        let produced = output.count - Int(stream.pointee.avail_out)
        stream.pointee.next_in = nil
        stream.pointee.next_out = nil
        switch status {
        case Z_OK, Z_BUF_ERROR:
            return (consumed, produced, false)
        case Z_STREAM_END:
            return (consumed, produced, true)
        default:
            let detail = stream.pointee.msg.map { String(cString: $0) } ?? "zlib error \(status)"
            throw CompressionError(.invalid, "compressed data is damaged (\(detail))")
        }
    }

    static func crc32(_ crc: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return crc }
        return UInt32(CZlib.crc32(uLong(crc), base.assumingMemoryBound(to: Bytef.self), uInt(bytes.count)))
    }
}

/// `inflate` is also the name of our method: the free function, reached without ambiguity.
private func zlibInflate(_ stream: UnsafeMutablePointer<z_stream>) -> Int32 {
    CZlib.inflate(stream, Z_NO_FLUSH)
}
