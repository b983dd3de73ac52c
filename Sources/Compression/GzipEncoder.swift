internal import CZlib

/// Writes a gzip file (RFC 1952) as its content streams in: a fixed header with MTIME 0 and no name, so that equal
/// content gives equal bytes (as `gzip -n` and Python's `gzip.compress(mtime=0)`), deflate at zlib's default level,
/// then CRC-32 and size. Output goes out in pieces of at most 64 KiB through a buffer reused for the whole file.
@_spi(Internals) public final class GzipEncoder {
    private let stream: UnsafeMutablePointer<z_stream>
    private let buffer: UnsafeMutableRawBufferPointer
    private var crc: UInt32 = 0
    private var size: UInt64 = 0
    private var headerWritten = false

    public init(level: Int32 = 6) {
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        let status = czlib_deflate_init2(stream, level, -15)
        precondition(status == Z_OK, "deflateInit2 failed: \(status)")
        buffer = .allocate(byteCount: 64 * 1024, alignment: 8)
    }

    deinit {
        deflateEnd(stream)
        stream.deallocate()
        buffer.deallocate()
    }

    /// ID1 ID2 CM FLG, MTIME 0, XFL 0, OS 255 (unknown): what Python writes with mtime=0.
    static let header: [UInt8] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255]

    public func write(_ input: UnsafeRawBufferPointer, emit: (UnsafeRawBufferPointer) -> Void) {
        writeHeader(emit)
        guard !input.isEmpty else { return }
        crc = Inflater.crc32(crc, input)
        size += UInt64(input.count)
        run(input, flush: Z_NO_FLUSH, emit: emit)
    }

    public func finish(emit: (UnsafeRawBufferPointer) -> Void) {
        writeHeader(emit)
        run(UnsafeRawBufferPointer(start: nil, count: 0), flush: Z_FINISH, emit: emit)
        var trailer: [UInt8] = []
        for value in [crc, UInt32(truncatingIfNeeded: size)] {
            for shift in stride(from: 0, to: 32, by: 8) { trailer.append(UInt8(truncatingIfNeeded: value >> shift)) }
        }
        trailer.withUnsafeBytes { emit($0) }
    }

    private func writeHeader(_ emit: (UnsafeRawBufferPointer) -> Void) {
        guard !headerWritten else { return }
        headerWritten = true
        Self.header.withUnsafeBytes { emit($0) }
    }

    private func run(_ input: UnsafeRawBufferPointer, flush: Int32, emit: (UnsafeRawBufferPointer) -> Void) {
        stream.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
        stream.pointee.avail_in = uInt(input.count)
        while true {
            stream.pointee.next_out = buffer.baseAddress!.assumingMemoryBound(to: Bytef.self)
            stream.pointee.avail_out = uInt(buffer.count)
            let status = deflate(stream, flush)
            precondition(status == Z_OK || status == Z_STREAM_END || status == Z_BUF_ERROR, "deflate: \(status)")
            let produced = buffer.count - Int(stream.pointee.avail_out)
            if produced > 0 { emit(UnsafeRawBufferPointer(rebasing: buffer[0..<produced])) }
            if flush == Z_FINISH ? status == Z_STREAM_END : stream.pointee.avail_in == 0 && produced < buffer.count {
                break
            }
        }
        stream.pointee.next_in = nil
        stream.pointee.next_out = nil
    }
}
