@_spi(Internals) import Compression
@_spi(Internals) import HTTP1

/// What lies between the HTTP body and the upload besides the CSV transform: the body's content coding and the
/// file's own compression undone (into a fixed buffer, with backpressure: `DecodePump`), and the published file
/// gzipped when its TARGET or OUTPUT asks. A gzip source published as gzip without a transform goes on as it came,
/// checked on the way.
@_spi(Internals) public final class SourceCoding {
    /// The content codings the pipeline decodes (`Accept-Encoding: gzip` is sent unless HEADERS say otherwise).
    public static let decodes: Set<String> = ["gzip", "x-gzip", "deflate"]

    private let pump: DecodePump
    private let outputGzip: Bool
    private var encoder: GzipEncoder?
    private var encoderDecided = false
    private let url: String
    private let fileMethod: CompressionMethod?

    /// `target`: the rendered remote name; `transforms`: a CSV transform runs (then the file is always decoded).
    /// `resumedAt`: the body is the file from this offset on (a resumed range): the bytes before it count against
    /// MAX_BYTES.
    public init(
        source: SourceConfig, head: HTTPResponseHead, target: String, transforms: Bool, resumedAt: UInt64 = 0
    ) throws(TransferFailure) {
        url = source.url.redacted
        do {
            let expected = try CompressionRule.expected(source.compression, urlPath: source.url.path)
            fileMethod = expected?.method
            outputGzip = try CompressionRule.outputIsGzip(source.outputCompression, target: target)
            let codings = head.headers.values("Content-Encoding").flatMap { $0.split(separator: ",") }.map {
                String($0.filter { $0 != " " && $0 != "\t" })
            }
            pump = try DecodePump(
                contentCodings: codings.filter { !$0.isEmpty }, file: expected?.method,
                inferred: expected?.inferred ?? false,
                passFileThrough: outputGzip && !transforms && expected?.method == .gzip, maxBytes: source.maxBytes,
                counted: resumedAt)
        } catch {
            throw TransferFailure(reason: "\(source.url.redacted): \(error.message)", transient: false, retryAfter: nil)
        }
    }

    /// The WARN to log once the first bytes said it: the URL's suffix promised compression the body does not have.
    public var mismatchWarning: String? {
        guard pump.inferredMismatch, let fileMethod else { return nil }
        return "\(url) ends in .\(fileMethod == .gzip ? "gz" : "zip") but the body is not \(fileMethod.name) "
            + "(the server may have decoded it already): passed on as it is"
    }

    /// The published bytes are the body's, one for one (nothing decoded, nothing compressed): a range of the body
    /// is a range of the file, so an interrupted upload may be resumed.
    var passesBytesUnchanged: Bool { !pump.decodes && !outputGzip }
    var isHolding: Bool { pump.isHolding }
    var decodedBytes: UInt64 { pump.decodedBytes }

    /// `deliver` gets each decoded piece and says whether the consumer wants more now.
    public func push(_ bytes: UnsafeRawBufferPointer, deliver: DecodePump.Emit) throws(TransferFailure) {
        try map { () throws(CompressionError) in try pump.push(bytes, emit: deliver) }
    }

    func resume(deliver: DecodePump.Emit) throws(TransferFailure) {
        try map { () throws(CompressionError) in try pump.resume(emit: deliver) }
    }

    /// Returns false when the consumer asked to stop before the end: call again when it is ready.
    public func finish(deliver: DecodePump.Emit) throws(TransferFailure) -> Bool {
        var done = false
        try map { () throws(CompressionError) in done = try pump.finish(emit: deliver) }
        return done
    }

    /// The bytes to publish, gzipped when the output is gzip and they are not the source's gzip already.
    func output(_ bytes: UnsafeRawBufferPointer, send: (UnsafeRawBufferPointer) -> Void) {
        guard let encoder = decideEncoder() else { return send(bytes) }
        encoder.write(bytes, emit: send)
    }

    func finishOutput(send: (UnsafeRawBufferPointer) -> Void) {
        decideEncoder()?.finish(emit: send)
    }

    /// Decided at the first output, when the first bytes have shown whether the source is gzip.
    private func decideEncoder() -> GzipEncoder? {
        if !encoderDecided {
            encoderDecided = true
            if outputGzip && !pump.passesCompressedFile { encoder = GzipEncoder() }
        }
        return encoder
    }

    private func map(_ body: () throws(CompressionError) -> Void) throws(TransferFailure) {
        do {
            try body()
        } catch {
            // A cut gzip stream or a CRC that does not match: bytes were lost on the way, another attempt may do.
            throw TransferFailure(reason: "\(url): \(error.message)", transient: error.isTruncation, retryAfter: nil)
        }
    }
}
