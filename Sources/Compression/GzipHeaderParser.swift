/// The header of one gzip member (RFC 1952 §2.3), read as its bytes arrive: however the input is split, it stops on
/// the first byte of the compressed data. Pure: no zlib.
@_spi(Internals) public struct GzipHeaderParser: Sendable {
    private enum Step: Sendable, Equatable {
        case id1, id2, method, flags
        /// MTIME (4), XFL, OS.
        case fixed(remaining: Int)
        case extraLength(low: UInt8?)
        case extra(remaining: Int)
        case name(length: Int)
        case comment(length: Int)
        case headerCRC(remaining: Int)
        case done
    }

    /// A file name or comment longer than this is not a header but garbage: refuse rather than read the whole body.
    static let maximumTextLength = 64 * 1024
    private static let fextra: UInt8 = 4, fname: UInt8 = 8, fcomment: UInt8 = 16, fhcrc: UInt8 = 2

    private var step = Step.id1
    private var flags: UInt8 = 0

    public init() {}

    public var isComplete: Bool { step == .done }
    /// No byte taken yet.
    public var isAtStart: Bool { step == .id1 }

    /// Takes header bytes from the front of `bytes`; returns how many it took. Once `isComplete`, it takes none.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer) throws(CompressionError) -> Int {
        var index = 0
        while index < bytes.count, step != .done {
            let byte = bytes[index]
            index += 1
            try take(byte)
        }
        return index
    }

    private mutating func take(_ byte: UInt8) throws(CompressionError) {
        switch step {
        case .id1:
            guard byte == 0x1f else { throw Self.notGzip }
            step = .id2
        case .id2:
            guard byte == 0x8b else { throw Self.notGzip }
            step = .method
        case .method:
            guard byte == 8 else {
                throw CompressionError(.unsupported, "gzip compression method \(byte) is not deflate (8)")
            }
            step = .flags
        case .flags:
            guard byte & 0xe0 == 0 else { throw CompressionError(.invalid, "gzip header has reserved flags set") }
            flags = byte
            step = .fixed(remaining: 6)
        case .fixed(let remaining):
            step = remaining > 1 ? .fixed(remaining: remaining - 1) : afterFixed(from: .fixed(remaining: 0))
        case .extraLength(nil):
            step = .extraLength(low: byte)
        case .extraLength(let low?):
            let length = Int(low) | Int(byte) << 8
            step = length > 0 ? .extra(remaining: length) : afterFixed(from: .extra(remaining: 0))
        case .extra(let remaining):
            step = remaining > 1 ? .extra(remaining: remaining - 1) : afterFixed(from: .extra(remaining: 0))
        case .name(let length):
            if byte == 0 {
                step = afterFixed(from: .name(length: 0))
            } else {
                guard length < Self.maximumTextLength else { throw Self.tooLong("file name") }
                step = .name(length: length + 1)
            }
        case .comment(let length):
            if byte == 0 {
                step = afterFixed(from: .comment(length: 0))
            } else {
                guard length < Self.maximumTextLength else { throw Self.tooLong("comment") }
                step = .comment(length: length + 1)
            }
        case .headerCRC(let remaining):
            step = remaining > 1 ? .headerCRC(remaining: remaining - 1) : .done
        case .done:
            preconditionFailure("fed after the header ended")
        }
    }

    /// The optional fields come in this order: FEXTRA, FNAME, FCOMMENT, FHCRC.
    private func afterFixed(from finished: Step) -> Step {
        let order: [(UInt8, Step)] = [
            (Self.fextra, .extraLength(low: nil)), (Self.fname, .name(length: 0)),
            (Self.fcomment, .comment(length: 0)), (Self.fhcrc, .headerCRC(remaining: 2)),
        ]
        let rank: Int
        switch finished {
        case .fixed: rank = 0
        case .extra: rank = 1
        case .name: rank = 2
        case .comment: rank = 3
        default: rank = 4
        }
        for (flag, next) in order[rank...] where flags & flag != 0 { return next }
        return .done
    }

    private static let notGzip = CompressionError(.invalid, "not gzip (the body does not start with 1f 8b)")
    private static func tooLong(_ what: String) -> CompressionError {
        CompressionError(.invalid, "gzip header's \(what) is longer than \(maximumTextLength) bytes")
    }
}

/// The 8 bytes after a gzip member's compressed data: CRC-32 and the size mod 2³², both little-endian.
@_spi(Internals) public struct GzipTrailer: Sendable, Equatable {
    public private(set) var bytes: [UInt8] = []

    public init() {}

    public var isComplete: Bool { bytes.count == 8 }
    public var crc: UInt32 { Self.le32(bytes, 0) }
    public var size: UInt32 { Self.le32(bytes, 4) }

    /// Takes trailer bytes from the front of `input`; returns how many.
    public mutating func feed(_ input: UnsafeRawBufferPointer) -> Int {
        let taken = min(8 - bytes.count, input.count)
        bytes.append(contentsOf: input[0..<taken])
        return taken
    }

    /// Whether what was decoded is what the trailer says; a mismatch means bytes were lost or damaged on the way.
    public func check(crc actualCRC: UInt32, size actualSize: UInt64) throws(CompressionError) {
        guard crc == actualCRC, size == UInt32(truncatingIfNeeded: actualSize) else {
            throw CompressionError(
                .truncated, "gzip member's CRC-32 or length does not match its trailer (damaged or incomplete)")
        }
    }

    static func le32(_ bytes: [UInt8], _ at: Int) -> UInt32 {
        UInt32(bytes[at]) | UInt32(bytes[at + 1]) << 8 | UInt32(bytes[at + 2]) << 16 | UInt32(bytes[at + 3]) << 24
    }
}
