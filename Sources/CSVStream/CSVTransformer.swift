/// Counters for the run summary.
public struct CSVCounters: Equatable, Sendable {
    public var rowsIn = 0
    public var rowsOut = 0
    public var badRowsSkipped = 0
    public var datesUnparsed = 0
    public var bytesIn: UInt64 = 0
    public var bytesOut: UInt64 = 0
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
    public private(set) var counters = CSVCounters()
    /// Human-readable notes for the log (bad rows skipped with `on_bad_lines: warn`), capped.
    public private(set) var warnings: [String] = []

    private var decoder: TextDecoder
    private var tokenizer: CSVTokenizer
    private let dates: DateNormalizer
    private var decoded: [UInt8] = []
    private var out: [UInt8] = []
    private var recordNumber = 0
    private var rowsSeen = 0
    private var headerDone = false
    private var width: Int?
    /// Source column indices to write, in order (nil: all).
    private var projection: [Int]?
    private var dateColumns: Set<Int> = []
    private var footer: [[UInt8]] = []
    private var footerHead = 0
    private var wroteBOM = false
    private var failed: CSVError?
    private var sawAnyRecord = false

    public init(options: CSVOptions) {
        self.options = options
        decoder = TextDecoder(encoding: options.encoding, replace: options.replaceInvalid)
        tokenizer = CSVTokenizer(
            separator: options.separator, quote: options.quote, escape: options.escape, comment: options.comment,
            maxRecordBytes: options.maxRowBytes)
        dates = DateNormalizer(dayFirst: options.dayFirst, format: options.dateFormat)
        out.reserveCapacity(64 * 1024)
    }

    /// Transforms one chunk; the output is appended to `output` (which the caller owns and may reuse).
    public func push(_ input: UnsafeRawBufferPointer, into output: inout [UInt8]) throws(CSVError) {
        try process(input, final: false, into: &output)
    }

    /// The body ended: flushes the last row and checks that the input was whole.
    public func finish(into output: inout [UInt8]) throws(CSVError) {
        try process(UnsafeRawBufferPointer(start: nil, count: 0), final: true, into: &output)
    }

    private func process(_ input: UnsafeRawBufferPointer, final: Bool, into output: inout [UInt8]) throws(CSVError) {
        if let failed { throw failed }
        counters.bytesIn += UInt64(input.count)
        decoded.removeAll(keepingCapacity: true)
        do {
            try decoder.decode(input, into: &decoded, final: final)
        } catch {
            // Read the rows before the bad byte, so that the row named does not depend on how input was chunked.
            _ = decoded.withUnsafeBytes { bytes in
                try? tokenizer.feed(bytes) { (_: inout CSVTokenizer) throws(CSVError) in }
            }
            let name = options.encoding.rawValue
            let byte = "0x" + String(error.byte, radix: 16, uppercase: true)
            throw fail(.invalidEncoding, row: tokenizer.records + 1, "byte \(byte) at byte offset \(error.offset) is not valid \(name) (row \(tokenizer.records + 1)); set encoding to the file's real encoding, or encoding_errors: \"replace\"")
        }
        out.removeAll(keepingCapacity: true)
        if options.byteOrderMark && !wroteBOM {
            out += [0xEF, 0xBB, 0xBF]
            wroteBOM = true
        }
        // withUnsafeBytes rethrows untyped errors: the typed one travels out as a value.
        let outcome: Result<Result<Void, CSVTokenizer.TooLong>, CSVError> = decoded.withUnsafeBytes { bytes in
            do throws(CSVError) {
                return .success(try tokenizer.feed(bytes) { (tokens) throws(CSVError) in try self.record(tokens) })
            } catch {
                return .failure(error)
            }
        }
        if case .failure = try outcome.get() {
            throw fail(.rowTooLong, row: tokenizer.records + 1, "row \(tokenizer.records + 1) is longer than \(options.maxRowBytes) bytes (a missing closing quote?)")
        }
        if final {
            if tokenizer.insideQuotes {
                throw fail(.unterminatedQuote, row: tokenizer.records + 1, "unterminated quoted field in row \(tokenizer.records + 1) (starting on line \(tokenizer.recordStartLine))")
            }
            try tokenizer.finish { (tokens) throws(CSVError) in try self.record(tokens) }
            if !sawAnyRecord { throw fail(.noData, row: 0, "no data: the body is empty") }
            if !headerDone { try startColumns(nil, row: 0) }
        }
        counters.bytesOut += UInt64(out.count)
        output += out
    }

    /// Records the failure (the transformer refuses further input) and returns it. Takes the row from the caller:
    /// inside a record callback the tokenizer is busy and must not be read.
    private func fail(_ kind: CSVError.Kind, row: Int, _ message: String) -> CSVError {
        let error = CSVError(kind: kind, row: row, message: message)
        failed = error
        return error
    }

    // MARK: records

    private func record(_ tokens: CSVTokenizer) throws(CSVError) {
        recordNumber += 1
        if recordNumber <= options.skipRows { return }
        if tokens.isBlank {
            if options.skipBlankLines { return }
        }
        sawAnyRecord = true
        if !headerDone {
            if let header = options.header {
                if rowsSeen < header {
                    rowsSeen += 1
                    return
                }
                rowsSeen += 1
                try startColumns(tokens, row: tokens.records)
                return
            }
            try startColumns(nil, firstRow: tokens, row: tokens.records)
        }
        try dataRow(tokens)
    }

    /// Works out the columns once the header row (or the first data row) is known, and writes the header line.
    private func startColumns(_ header: CSVTokenizer?, firstRow: CSVTokenizer? = nil, row: Int) throws(CSVError) {
        headerDone = true
        var sourceNames: [String]?
        if let header {
            sourceNames = (0..<header.fieldCount).map { String(decoding: header.field($0), as: UTF8.self) }
        }
        let names = options.names ?? sourceNames
        width = names?.count ?? header?.fieldCount ?? firstRow?.fieldCount
        func resolve(_ column: CSVColumn, key: String) throws(CSVError) -> Int {
            switch column {
            case .index(let index):
                guard let width, index < width else {
                    throw fail(.unknownColumn, row: row, "\(key): column \(index) does not exist (the file has \(width ?? 0) columns)")
                }
                return index
            case .name(let name):
                guard let index = names?.firstIndex(of: name) else {
                    let known = names.map { $0.joined(separator: ", ") } ?? "none: the file has no header"
                    throw fail(.unknownColumn, row: row, "\(key): no column named '\(name)' (columns: \(known))")
                }
                return index
            }
        }
        if let columns = options.columns {
            var indices: [Int] = []
            for column in columns { indices.append(try resolve(column, key: "usecols")) }
            projection = Array(Set(indices)).sorted()  // the file's order, as pandas keeps it
        }
        for column in options.dateColumns { dateColumns.insert(try resolve(column, key: "parse_dates")) }
        if let names {
            let written = projection.map { $0.map { names[$0] } } ?? names
            writeRow(count: written.count) { index in ArraySlice(Array(written[index].utf8)) }
        }
    }

    private func dataRow(_ tokens: CSVTokenizer) throws(CSVError) {
        if let limit = options.rowLimit, counters.rowsIn >= limit { return }
        counters.rowsIn += 1
        let fields = tokens.fieldCount
        if let width, fields > width {
            let message = "expected \(width) fields, saw \(fields) at row \(tokens.records)"
            switch options.onBadLines {
            case .error: throw fail(.badLine, row: tokens.records, message)
            case .warn:
                if warnings.count < 100 { warnings.append("skipped: " + message) }
                counters.badRowsSkipped += 1
                return
            case .skip:
                counters.badRowsSkipped += 1
                return
            }
        }
        let columns = projection?.count ?? width ?? fields
        let start = out.count
        writeRow(count: columns) { index in
            let source = projection?[index] ?? index
            // Rows with too few fields are padded with empty ones, as pandas does.
            guard source < fields else { return [] }
            return transform(tokens.field(source), column: source)
        }
        counters.rowsOut += 1
        if options.skipFooter > 0 { holdBack(from: start) }
    }

    /// The value to write for one field: dates normalised, number separators rewritten; otherwise as it was.
    private func transform(_ value: ArraySlice<UInt8>, column: Int) -> ArraySlice<UInt8> {
        if dateColumns.contains(column) && !value.isEmpty {
            if let iso = dates.normalize(value) { return iso[...] }
            counters.datesUnparsed += 1
            return value
        }
        if options.decimal != nil || options.thousands != nil, let number = NumberNotation.rewrite(
            value, decimal: options.decimal ?? UInt8(ascii: "."), thousands: options.thousands)
        {
            return number[...]
        }
        return value
    }

    /// Keeps the last `skipfooter` rows out of the output until more rows push them out (or the end drops them).
    private func holdBack(from start: Int) {
        let row = Array(out[start...])
        out.removeSubrange(start...)
        if footer.count < options.skipFooter {
            footer.append(row)
            counters.rowsOut -= 1
            return
        }
        out += footer[footerHead]
        footer[footerHead] = row
        footerHead = (footerHead + 1) % footer.count
    }

    // MARK: writing

    /// Writes one row with RFC 4180 quoting: a field is quoted only when it holds the separator, a quote, CR or LF;
    /// a row of one empty field is written `""` so that it is not read back as a blank line.
    private func writeRow(count: Int, _ field: (Int) -> ArraySlice<UInt8>) {
        let separator = options.outputSeparator
        if count == 1 {
            let only = field(0)
            if only.isEmpty {
                out += [34, 34]
                out += options.lineTerminator
                return
            }
        }
        for index in 0..<count {
            if index > 0 { out.append(separator) }
            let value = field(index)
            if value.contains(where: { $0 == separator || $0 == 34 || $0 == 10 || $0 == 13 }) {
                out.append(34)
                for byte in value {
                    if byte == 34 { out.append(34) }
                    out.append(byte)
                }
                out.append(34)
            } else {
                out += value
            }
        }
        out += options.lineTerminator
    }
}

/// Number separators per field: with `thousands: "."` and `decimal: ","`, `1.234,50` becomes `1234.50`. Only values
/// that are numbers in that notation change (streaming cannot know a column's type); digits are never re-typed.
enum NumberNotation {
    static func rewrite(_ value: ArraySlice<UInt8>, decimal: UInt8, thousands: UInt8?) -> [UInt8]? {
        var bytes = value
        var out: [UInt8] = []
        if let sign = bytes.first, sign == UInt8(ascii: "-") || sign == UInt8(ascii: "+") {
            out.append(sign)
            bytes.removeFirst()
        }
        var integer: [UInt8] = []
        var group = 0
        var sawThousands = false
        var changed = false
        while let byte = bytes.first, byte != decimal {
            if byte >= 48 && byte <= 57 {
                integer.append(byte)
                group += 1
            } else if byte == thousands {
                // Groups after a separator have exactly three digits; the first group has one to three.
                guard group >= 1 && group <= 3 && (!sawThousands || group == 3) else { return nil }
                sawThousands = true
                group = 0
                changed = true
            } else {
                return nil
            }
            bytes.removeFirst()
        }
        guard !integer.isEmpty, !sawThousands || group == 3 else { return nil }
        out += integer
        if bytes.first == decimal {
            bytes.removeFirst()
            guard !bytes.isEmpty, bytes.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return nil }
            out.append(UInt8(ascii: "."))
            out += bytes
            if decimal != UInt8(ascii: ".") { changed = true }
        }
        return changed ? out : nil
    }
}
