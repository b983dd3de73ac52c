/// Counters for the log and the run summary.
public struct CSVCounters: Equatable, Sendable {
    public init() {}

    /// Data records read: after the header, `skiprows`, comments and blank lines, up to `nrows`; bad rows and footer
    /// rows included.
    public var rowsIn = 0
    /// Rows written (the header line not counted).
    public var rowsOut = 0
    /// Rows with too many fields that `on_bad_lines: skip|warn` dropped.
    public var badRowsSkipped = 0
    /// Non-empty values of `parse_dates` columns that are not dates (kept as they are), in all and per column.
    public var datesUnparsed = 0
    public var datesUnparsedByColumn: [ColumnCount] = []
    /// U+FFFD characters written under `encoding_errors: replace`: bytes that could not be decoded (and any U+FFFD the
    /// source already held).
    public var valuesReplaced = 0
    /// Values whose `decimal`/`thousands` notation was rewritten to the plain one.
    public var thousandsDecimalRewritten = 0
    public var bytesIn: UInt64 = 0
    public var bytesOut: UInt64 = 0

    public struct ColumnCount: Equatable, Sendable {
        public var column: String
        public var count: Int

        public init(column: String, count: Int) {
            self.column = column
            self.count = count
        }
    }
}

/// Why a CSV body could not be transformed: what, and at which row (1-based, counting records of the input).
public struct CSVError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Kind: Equatable, Sendable {
        case invalidEncoding
        case unterminatedQuote
        case badLine
        case rowTooLong
        case noData
        case unknownColumn
    }

    public let kind: Kind
    public let row: Int
    public let message: String

    public var description: String { message }
}

/// Applies a source's PARAMS to a CSV body as it streams: push chunks, get UTF-8 output bytes, finish. Memory is
/// bounded by the longest row (capped by `maxRowBytes`) and `skipfooter`, whatever the size of the body.
public final class CSVTransformer {
    public let options: CSVOptions
    public var counters: CSVCounters { rows.counters }
    /// Human-readable notes for the log (bad rows skipped with `on_bad_lines: warn`), capped.
    public var warnings: [String] { rows.warnings }

    private var decoder: TextDecoder
    private var tokenizer: CSVTokenizer
    private var rows: RowProcessor
    /// The chunk in UTF-8; the decoders write into its raw memory.
    private var decoded = ByteWriter(capacity: 128 * 1024)
    private var failed: CSVError?
    /// Set once a `transformed(_:)` sequence started iterating: the transform is single-pass.
    var drivenBySequence = false

    public init(options: CSVOptions) {
        self.options = options
        decoder = TextDecoder(encoding: options.encoding, replace: options.replaceInvalid)
        tokenizer = CSVTokenizer(
            separator: options.separator, quote: options.quote, escape: options.escape, comment: options.comment,
            maxRecordBytes: options.maxRowBytes, notable: RowProcessor.quoted(options),
            offersPlainRecords: RowProcessor.copiesPlainRows(options))
        rows = RowProcessor(options: options)
    }

    /// Transforms one chunk; the output is appended to `output` (which the caller owns and may reuse).
    public func push(_ input: UnsafeRawBufferPointer, into output: inout [UInt8]) throws(CSVError) {
        try process(input, final: false, into: &output)
    }

    /// Transforms one chunk of bytes held in an array; as `push(_:into:)` with a buffer.
    public func push(_ input: [UInt8], into output: inout [UInt8]) throws(CSVError) {
        try push(input[...], into: &output)
    }

    /// Transforms one chunk of bytes held in a slice of an array; as `push(_:into:)` with a buffer.
    public func push(_ input: ArraySlice<UInt8>, into output: inout [UInt8]) throws(CSVError) {
        // `withUnsafeBytes` takes an untyped-throws body: the CSVError is carried out as a value.
        let result: Result<Void, CSVError> = input.withUnsafeBytes { bytes in
            Result { () throws(CSVError) in try process(bytes, final: false, into: &output) }
        }
        try result.get()
    }

    /// The body ended: flushes the last row and checks that the input was whole.
    public func finish(into output: inout [UInt8]) throws(CSVError) {
        try process(UnsafeRawBufferPointer(start: nil, count: 0), final: true, into: &output)
    }

    private func process(_ input: UnsafeRawBufferPointer, final: Bool, into output: inout [UInt8]) throws(CSVError) {
        if let failed { throw failed }
        do {
            try run(input, final: final, into: &output)
        } catch {
            failed = error
            throw error
        }
    }

    private func run(_ input: UnsafeRawBufferPointer, final: Bool, into output: inout [UInt8]) throws(CSVError) {
        // The row state leaves the object for the duration of the chunk: the per-row work then touches a local
        // struct, which Swift checks for exclusive access at compile time instead of on every field (measured:
        // the dynamic checks cost a quarter of the time).
        var rows = self.rows
        self.rows = RowProcessor.placeholder
        defer { self.rows = rows }
        rows.counters.bytesIn += UInt64(input.count)
        decoded.removeAll()
        var invalid: TextDecoder.InvalidByte?
        do {
            try decoder.decode(input, into: &decoded, final: final)
        } catch {
            // The rows before the bad byte are processed first: an error among them comes earlier in the input and
            // wins, so that what is reported does not depend on how the input was chunked.
            invalid = error
        }
        rows.beginChunk()
        let fed = try tokenizer.feed(
            UnsafeRawBufferPointer(decoded.bytes),
            plain: { (raw, fields) throws(CSVError) in rows.plainRow(raw, fields: fields) },
            { (tokens) throws(CSVError) in try rows.record(tokens) }
        )
        if case .failure = fed {
            let row = tokenizer.records + 1
            throw CSVError(
                kind: .rowTooLong, row: row,
                message: "row \(row) is longer than \(options.maxRowBytes) bytes (a missing closing quote?)")
        }
        if let invalid {
            let name = options.encoding.rawValue
            let byte = "0x" + String(invalid.byte, radix: 16, uppercase: true)
            let row = tokenizer.records + 1
            throw CSVError(
                kind: .invalidEncoding, row: row,
                message:
                    "byte \(byte) at byte offset \(invalid.offset) is not valid \(name) (row \(row)); "
                    + "set encoding to the file's real encoding, or encoding_errors: \"replace\""
            )
        }
        if final {
            if tokenizer.insideQuotes {
                let row = tokenizer.records + 1
                throw CSVError(
                    kind: .unterminatedQuote, row: row,
                    message: "unterminated quoted field in row \(row) (starting on line \(tokenizer.recordStartLine))")
            }
            try tokenizer.finish { (tokens) throws(CSVError) in try rows.record(tokens) }
            try rows.finish()
        }
        rows.counters.bytesOut += UInt64(rows.out.count)
        if options.replaceInvalid { rows.counters.valuesReplaced += Self.replacementCharacters(in: rows.out.bytes) }
        output.append(contentsOf: rows.out.bytes)
    }
}

extension CSVTransformer {
    /// U+FFFD (EF BF BD) in what is written. Counted on the output, not in the decoder, so that values of skipped
    /// rows and unselected columns do not count; only under `encoding_errors: replace`, so nobody else pays the scan.
    static func replacementCharacters(in bytes: UnsafeBufferPointer<UInt8>) -> Int {
        var count = 0
        var index = 0
        let end = bytes.count - 2
        while index < end {
            if bytes[index] == 0xEF && bytes[index + 1] == 0xBF && bytes[index + 2] == 0xBD {
                count += 1
                index += 3
            } else {
                index += 1
            }
        }
        return count
    }
}
