/// Moves a body through its decoders into a fixed 64 KiB buffer, handing each decoded piece to `emit`, which says
/// whether the consumer wants more now. When it does not, the pump stops and keeps the input it has not decoded (at
/// most the piece it was given): the caller pauses its source and calls `resume` when the consumer is ready. So a
/// small compressed read that inflates a thousandfold never queues more than one buffer downstream.
///
/// Without any decoding (identity), input goes to `emit` as it is: no copy.
@_spi(Internals) public final class DecodePump {
    public typealias Emit = (UnsafeRawBufferPointer) -> Bool

    private let decoder: (any ByteDecoder)?
    private let sniffer: SniffingDecoder?
    private let verifier: VerifyingDecoder?
    private let limit: UInt64?
    private let buffer: UnsafeMutableRawBufferPointer
    private var held: [UInt8] = []
    /// The last decode filled the buffer: more output may be waiting inside the decoder.
    private var outputWaiting = false
    private var inputEnded = false
    /// Bytes handed to `emit`.
    public private(set) var decodedBytes: UInt64 = 0

    /// The 100 GiB a decompressed body may reach when the source sets no MAX_BYTES (a decompression bomb stops).
    public static let defaultDecodedLimit: UInt64 = 100 << 30

    /// `contentCodings`: the response's `Content-Encoding`, in the order they were applied. `file`: what the body
    /// itself is compressed with (PARAMS `compression`), `inferred` when only its URL's suffix says so (then the first
    /// bytes decide). `passFileThrough`: the file's compressed bytes go on as they are, checked on the way.
    /// `maxBytes`: the most decoded bytes allowed (default: none when nothing is decoded, 100 GiB otherwise).
    /// `counted`: bytes of the file that came before this body (a resumed range), counted against `maxBytes`.
    public init(
        contentCodings: [String], file: CompressionMethod?, inferred: Bool = false, passFileThrough: Bool = false,
        maxBytes: UInt64? = nil, counted: UInt64 = 0
    ) throws(CompressionError) {
        var decoder: (any ByteDecoder)?
        for coding in contentCodings.reversed() {
            let next: any ByteDecoder
            switch coding.lowercased() {
            case "gzip", "x-gzip": next = GzipDecoder()
            case "deflate": next = DeflateDecoder()
            case "identity": continue
            default:
                throw CompressionError(
                    .unsupported, "Content-Encoding '\(coding)' is not supported (supported: gzip, deflate)")
            }
            decoder = decoder.map { ChainDecoder($0, next) } ?? next
        }
        var sniffer: SniffingDecoder?
        var verifier: VerifyingDecoder?
        if let file {
            let real: any ByteDecoder =
                switch file {
                case .gzip: GzipDecoder()
                case .zip(let member): ZipDecoder(member: member)
                }
            if passFileThrough { verifier = VerifyingDecoder(real) }
            let chosen: any ByteDecoder = verifier ?? real
            let make: () -> any ByteDecoder = { chosen }
            let fileDecoder: any ByteDecoder
            if inferred {
                let sniffing = SniffingDecoder(file, decoder: make)
                sniffer = sniffing
                fileDecoder = sniffing
            } else {
                fileDecoder = make()
            }
            decoder = decoder.map { ChainDecoder($0, fileDecoder) } ?? fileDecoder
        }
        self.decoder = decoder
        decodedBytes = counted
        self.sniffer = sniffer
        self.verifier = verifier
        limit = maxBytes ?? (decoder == nil ? nil : Self.defaultDecodedLimit)
        buffer =
            decoder == nil
            ? UnsafeMutableRawBufferPointer(start: nil, count: 0) : .allocate(byteCount: 64 * 1024, alignment: 8)
    }

    deinit { if decoder != nil { buffer.deallocate() } }

    /// The URL's suffix said compressed, the first bytes said otherwise: the body went on as it is.
    public var inferredMismatch: Bool { sniffer?.mismatch ?? false }
    /// Whether the file's compressed bytes are what goes on (known once the first bytes have come, for an inferred
    /// method): then a gzip output is those bytes, not a new compression of them.
    public var passesCompressedFile: Bool { verifier != nil && !(sniffer?.mismatch ?? false) }
    /// Something is decoded or checked on the way: the bytes out are not the bytes in.
    public var decodes: Bool { decoder != nil }
    /// Input is held back: the consumer asked to stop. Call `resume` when it is ready.
    public var isHolding: Bool { !held.isEmpty || outputWaiting }

    /// Decodes `input`. Returns false when `emit` asked to stop before all of it was decoded (the rest is held).
    @discardableResult
    public func push(_ input: UnsafeRawBufferPointer, emit: Emit) throws(CompressionError) -> Bool {
        precondition(!isHolding, "push while holding input: resume first")
        guard !input.isEmpty else { return true }
        guard let decoder else {
            try count(input.count)
            _ = emit(input)
            return true
        }
        return try run(decoder, input, emit)
    }

    /// Goes on with what was held. Returns false when `emit` asked to stop again.
    @discardableResult
    public func resume(emit: Emit) throws(CompressionError) -> Bool {
        guard let decoder, isHolding else { return true }
        let rest = held
        held = []
        outputWaiting = false
        return try withBytes(rest) { (bytes) throws(CompressionError) in try run(decoder, bytes, emit) }
    }

    /// The input has ended: decodes what is left, then checks that the stream is complete (a missing gzip trailer, a
    /// CRC that does not match: `.truncated`). Returns false when `emit` asked to stop first: call `finish` again
    /// when the consumer is ready.
    @discardableResult
    public func finish(emit: Emit) throws(CompressionError) -> Bool {
        guard let decoder else { return true }
        if isHolding {
            guard try resume(emit: emit) else { return false }
        }
        if !inputEnded {
            inputEnded = true
            decoder.endInput()
        }
        guard try run(decoder, UnsafeRawBufferPointer(start: nil, count: 0), emit) else { return false }
        try decoder.finish()
        return true
    }

    private func run(_ decoder: any ByteDecoder, _ input: UnsafeRawBufferPointer, _ emit: Emit) throws(CompressionError)
        -> Bool
    {
        var read = 0
        while true {
            let (used, made) = try decoder.decode(input.from(read), into: buffer)
            read += used
            try countVerified()
            if made > 0 {
                try count(made)
                let more = emit(UnsafeRawBufferPointer(rebasing: buffer[0..<made]))
                let waiting = made == buffer.count
                if !more && (read < input.count || waiting) {
                    held = Array(input.from(read))
                    outputWaiting = waiting
                    return false
                }
                if waiting { continue }
            }
            if read == input.count { return true }
            if used == 0 && made == 0 { throw CompressionError(.invalid, "the decoder stopped taking input") }
        }
    }

    private func count(_ bytes: Int) throws(CompressionError) {
        decodedBytes += UInt64(bytes)
        if verifier == nil, let limit, decodedBytes > limit { throw Self.overLimit(limit) }
    }

    /// A body passed on compressed is held to the limit by what its check decoded.
    private func countVerified() throws(CompressionError) {
        if let verifier, let limit, verifier.decodedBytes > limit { throw Self.overLimit(limit) }
    }

    private static func overLimit(_ limit: UInt64) -> CompressionError {
        CompressionError(.limit, "the body decodes to more than \(limit) bytes (MAX_BYTES)")
    }
}
