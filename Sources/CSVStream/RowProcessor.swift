/// Everything done per row: header and columns, selection, value rewriting, quoting. A struct, so that the hot
/// path runs on a local value (see `CSVTransformer.run`).
struct RowProcessor {
    /// Stands in for a transformer's rows while a chunk runs on a local copy. Never written, only copied (a copy
    /// shares nothing it could write: its buffer is written only by the copy that replaces it).
    nonisolated(unsafe) static let placeholder = RowProcessor(options: CSVOptions())

    let options: CSVOptions
    var counters = CSVCounters()
    var warnings: [String] = []
    /// The output of the current chunk.
    var out = ByteWriter(capacity: 128 * 1024)
    private let dates: DateNormalizer
    private let rewritesNumbers: Bool
    /// Fields are written as read (see `copiesPlainRows`): the row loop need not ask per field.
    private let copiesFields: Bool
    /// Bytes that make a field need quotes on output.
    private var needsQuotes = [Bool](repeating: false, count: 256)
    /// OUTPUT.lineterminator (one or two bytes), kept where the row writer need not go through an array.
    private let lineEnd: (UInt8, UInt8)
    private let lineEndCount: Int
    private var recordNumber = 0
    private var rowsSeen = 0
    private var headerDone = false
    private var width: Int?
    /// Source column indices to write, in order (nil: all).
    private var projection: [Int]?
    /// Per source column: its place in `dateColumns`, -1 when dates are not normalised there. (An array, not a
    /// dictionary: looked up for every field.)
    private var dateSlot: [Int] = []
    private var dateColumns: [DateColumn] = []
    private var footer: [[UInt8]] = []
    private var footerHead = 0
    private var wroteBOM = false
    private var sawAnyRecord = false

    init(options: CSVOptions) {
        self.options = options
        dates = DateNormalizer(dayFirst: options.dayFirst, format: options.dateFormat)
        rewritesNumbers = options.decimal != nil || options.thousands != nil
        copiesFields = Self.copiesPlainRows(options)
        for byte in Self.quoted(options) { needsQuotes[Int(byte)] = true }
        lineEnd = (options.lineTerminator[0], options.lineTerminator.count > 1 ? options.lineTerminator[1] : 0)
        lineEndCount = options.lineTerminator.count
    }

    /// Bytes that make a field need quotes on output (RFC 4180).
    static func quoted(_ options: CSVOptions) -> [UInt8] { [options.outputSeparator, 34, 10, 13] }

    /// Whether data rows may be written unchanged but for their separators: nothing selects columns or rewrites
    /// values. Then a plain row (see `CSVTokenizer.feed(_:plain:_:)`) is copied whole instead of field by field.
    static func copiesPlainRows(_ options: CSVOptions) -> Bool {
        options.columns == nil && options.dateColumns.isEmpty && options.decimal == nil && options.thousands == nil
    }

    /// Takes a plain data row as `dataRow` would write it — same counters, same limits — when it is one: the header
    /// is done, the row is not skipped, and it has as many fields as the file (others go the long way, to be padded
    /// or reported).
    mutating func plainRow(_ raw: UnsafeRawBufferPointer, fields: Int) -> Bool {
        guard headerDone, recordNumber >= options.skipRows, fields == width ?? fields else { return false }
        recordNumber += 1
        sawAnyRecord = true
        if let limit = options.rowLimit, counters.rowsIn >= limit { return true }
        counters.rowsIn += 1
        let start = out.count
        if options.separator == options.outputSeparator {
            out.append(raw)
        } else {
            out.append(raw, replacing: options.separator, with: options.outputSeparator)
        }
        appendLineEnd()
        counters.rowsOut += 1
        if options.skipFooter > 0 { holdBack(from: start) }
        return true
    }

    mutating func beginChunk() {
        out.removeAll()
        if options.byteOrderMark && !wroteBOM {
            out += [0xEF, 0xBB, 0xBF]
            wroteBOM = true
        }
    }

    mutating func finish() throws(CSVError) {
        if !sawAnyRecord { throw CSVError(kind: .noData, row: 0, message: "no data: the body is empty") }
        if !headerDone { try startColumns(nil, row: 0) }
        for slot in dateColumns.indices where dateColumns[slot].tried > 0 { warnIfNoDates(slot) }
    }

    /// Counts a `parse_dates` value, and warns as soon as the first `DateColumn.sample` non-empty values of a column
    /// held no date at all: a column that never parses is almost always a config mistake (the wrong column), and
    /// its rows would otherwise be published undated without a word.
    private mutating func noteDate(_ value: UnsafeBufferPointer<UInt8>, column slot: Int, parsed: Bool) {
        if !parsed {
            counters.datesUnparsed += 1
            counters.datesUnparsedByColumn[slot].count += 1
        }
        guard dateColumns[slot].tried < DateColumn.sample else { return }
        dateColumns[slot].tried += 1
        if parsed {
            dateColumns[slot].parsed += 1
        } else if dateColumns[slot].example == nil {
            dateColumns[slot].example = String(decoding: value.prefix(40), as: UTF8.self)
        }
        if dateColumns[slot].tried == DateColumn.sample { warnIfNoDates(slot) }
    }

    private mutating func warnIfNoDates(_ slot: Int) {
        let column = dateColumns[slot]
        guard column.parsed == 0, !column.warned else { return }
        dateColumns[slot].warned = true
        warnings.append(
            "parse_dates column '\(column.label)': none of the first \(column.tried) non-empty values is a date "
                + "(e.g. \"\(column.example ?? "")\"); values are kept as text — is it the right column?"
        )
    }

    mutating func record(_ tokens: borrowing CSVTokenizer) throws(CSVError) {
        recordNumber += 1
        if recordNumber <= options.skipRows { return }
        if tokens.isBlank && options.skipBlankLines { return }
        sawAnyRecord = true
        if !headerDone {
            if let header = options.header {
                rowsSeen += 1
                if rowsSeen <= header { return }
                try startColumns(copy tokens, row: tokens.records)
                return
            }
            try startColumns(nil, firstRow: copy tokens, row: tokens.records)
        }
        try dataRow(tokens)
    }

    /// Works out the columns once the header row (or the first data row) is known, and writes the header line.
    ///
    /// pandas' rules, which configs written for pandas rely on: `names` label the *selected* columns when there are
    /// exactly as many names as `usecols` indices (the indices then count in the file), otherwise they label the
    /// file's columns (and `usecols` may name them); `parse_dates` indices count among the selected columns, in file
    /// order, and its names must be among them.
    private mutating func startColumns(
        _ header: CSVTokenizer?, firstRow: CSVTokenizer? = nil, row: Int
    ) throws(CSVError) {
        headerDone = true
        var sourceNames: [String]?
        if let header {
            sourceNames = (0..<header.fieldCount).map { String(decoding: header.field($0), as: UTF8.self) }
        }
        let fileWidth = header?.fieldCount ?? firstRow?.fieldCount
        // usecols is all indices or all names (CSVOptions refuses a mix).
        var selectedIndices: Set<Int>?
        if let columns = options.columns, case .index = columns.first {
            selectedIndices = Set(columns.compactMap { if case .index(let index) = $0 { index } else { nil } })
        }
        let namesSelected = options.names != nil && options.names?.count == selectedIndices?.count
        let names = namesSelected ? nil : options.names ?? sourceNames
        width = namesSelected ? fileWidth : names?.count ?? fileWidth
        let width = width
        func resolve(_ column: CSVColumn, key: String) throws(CSVError) -> Int {
            switch column {
            case .index(let index):
                guard let width, index < width else {
                    throw CSVError(
                        kind: .unknownColumn, row: row,
                        message: "\(key): column \(index) does not exist (the file has \(width ?? 0) columns)")
                }
                return index
            case .name(let name):
                guard let index = names?.firstIndex(of: name) else {
                    let known = names.map { $0.joined(separator: ", ") } ?? "none: the file has no header"
                    throw CSVError(
                        kind: .unknownColumn, row: row, message: "\(key): no column named '\(name)' (columns: \(known))"
                    )
                }
                return index
            }
        }
        if let columns = options.columns {
            var selected: [Int] = []
            for column in columns { selected.append(try resolve(column, key: "usecols")) }
            projection = Array(Set(selected)).sorted()  // the file's order, as pandas keeps it
        }
        let labels =
            namesSelected ? options.names : names.map { names in projection.map { $0.map { names[$0] } } ?? names }
        for column in options.dateColumns {
            let index = try resolveDateColumn(column, labels: labels, resolve: resolve, row: row)
            if dateSlot.count <= index { dateSlot += [Int](repeating: -1, count: index + 1 - dateSlot.count) }
            guard dateSlot[index] < 0 else { continue }
            dateSlot[index] = dateColumns.count
            var label =
                projection.flatMap { $0.firstIndex(of: index) }.flatMap { labels?[$0] } ?? names?[index] ?? "\(index)"
            // Two date columns under one name (a header that repeats it) stay apart in the counters.
            if dateColumns.contains(where: { $0.label == label }) { label += " (column \(index))" }
            dateColumns.append(DateColumn(label: label))
            counters.datesUnparsedByColumn.append(.init(column: label, count: 0))
        }
        if let labels {
            let fields = labels.map { Array($0.utf8) }
            writeRow(count: fields.count) { fields[$0] }
        }
    }

    /// A `parse_dates` entry as a column of the file. With `usecols`, indices count among the selected columns and
    /// names must be selected: a date column that is not written is a config mistake, not a no-op.
    private func resolveDateColumn(
        _ column: CSVColumn, labels: [String]?, resolve: (CSVColumn, String) throws(CSVError) -> Int, row: Int
    ) throws(CSVError) -> Int {
        guard let projection else { return try resolve(column, "parse_dates") }
        switch column {
        case .index(let index):
            guard index < projection.count else {
                throw CSVError(
                    kind: .unknownColumn, row: row,
                    message:
                        "parse_dates: column \(index) does not exist (usecols selects \(projection.count) columns, "
                        + "and parse_dates counts among them, as pandas does)"
                )
            }
            return projection[index]
        case .name(let name):
            if let position = labels?.firstIndex(of: name) { return projection[position] }
            let known = labels?.joined(separator: ", ") ?? "none: the file has no header"
            throw CSVError(
                kind: .unknownColumn, row: row,
                message: "parse_dates: no column named '\(name)' among the columns usecols selects (\(known))")
        }
    }

    private mutating func dataRow(_ tokens: borrowing CSVTokenizer) throws(CSVError) {
        if let limit = options.rowLimit, counters.rowsIn >= limit { return }
        counters.rowsIn += 1
        let fields = tokens.fieldCount
        // With usecols, pandas takes the selected fields of a longer row and ignores the rest: not a bad line.
        if let width, fields > width, projection == nil {
            let message = "expected \(width) fields, saw \(fields) at row \(tokens.records)"
            switch options.onBadLines {
            case .error: throw CSVError(kind: .badLine, row: tokens.records, message: message)
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
        let separator = options.outputSeparator
        var singleEmpty = false
        if columns == 1 {
            let source = projection?[0] ?? 0
            singleEmpty = source >= fields || tokens.field(source).isEmpty
        }
        if singleEmpty {
            out += [34, 34]  // one empty field: quoted, so that it is not read back as a blank line
        } else if copiesFields && columns == fields {
            // Every field as read, quoted where it must be: none of the per-field questions below applies. Room for
            // the worst case (every byte a doubled quote) is made once, and the row written through a cursor: a
            // capacity check per byte or per separator was most of the cost of rows with short fields.
            let room = 2 * tokens.recordBytes + 3 * fields + 8
            let begin = out.reserve(room)
            let readable = tokens.readableEnd
            var cursor = begin
            for index in 0..<fields {
                if index > 0 {
                    cursor.pointee = separator
                    cursor += 1
                }
                let value = tokens.field(index)
                let notable = tokens.fieldIsNotable(index)
                let count = value.count
                if count <= 8, let source = value.baseAddress, source + 8 <= readable {
                    // A short field in one load, quoted or not without a branch on which (that branch was a
                    // misprediction per field): the opening quote is written anyway and overwritten by the value
                    // when none is wanted, the closing one written and stepped over only when wanted. A quote in
                    // the value must be doubled: that rare case goes the long way.
                    let word = UnsafeRawPointer(source).loadUnaligned(as: UInt64.self)
                    let quoted = notable ? 1 : 0
                    if quoted != 0 && Self.holdsQuote(word, count: count) {
                        cursor = Self.writeQuoted(value, at: cursor)
                        continue
                    }
                    cursor.pointee = 34
                    UnsafeMutableRawPointer(cursor + quoted).storeBytes(of: word, as: UInt64.self)
                    cursor += quoted + count
                    cursor.pointee = 34
                    cursor += quoted
                } else if notable {
                    cursor = Self.writeQuoted(value, at: cursor)
                } else {
                    Self.write(value, at: &cursor)
                }
            }
            assert(cursor - begin <= room - 8, "the row writer went past the room it made")
            out.commit(cursor - begin)
        } else {
            for index in 0..<columns {
                if index > 0 { out.append(separator) }
                let source = projection?[index] ?? index
                // Rows with too few fields are padded with empty ones, as pandas does.
                guard source < fields else { continue }
                let value = tokens.field(source)
                let notable = tokens.fieldIsNotable(source)
                let mark = out.count
                if source < dateSlot.count && dateSlot[source] >= 0 && !value.isEmpty {
                    let parsed = dates.normalize(value, into: &out)
                    noteDate(value, column: dateSlot[source], parsed: parsed)
                    if parsed {
                        requoteIfNeeded(from: mark)
                        continue
                    }
                } else if rewritesNumbers
                    && NumberNotation.rewrite(
                        value[...], decimal: options.decimal ?? UInt8(ascii: "."), thousands: options.thousands,
                        into: &out)
                {
                    counters.thousandsDecimalRewritten += 1
                    requoteIfNeeded(from: mark)
                    continue
                }
                if notable { appendQuoted(value) } else { out.append(value) }
            }
        }
        appendLineEnd()
        counters.rowsOut += 1
        if options.skipFooter > 0 { holdBack(from: start) }
    }

    @inline(__always)
    private mutating func appendLineEnd() {
        let cursor = out.reserve(2)
        cursor[0] = lineEnd.0
        cursor[1] = lineEnd.1
        out.commit(lineEndCount)
    }

    /// Keeps the last `skipfooter` rows out of the output until more rows push them out (or the end drops them).
    private mutating func holdBack(from start: Int) {
        let row = Array(out.bytes(from: start))
        out.removeSubrange(start...)
        if footer.count < options.skipFooter {
            footer.append(row)
            counters.rowsOut -= 1
            return
        }
        footer[footerHead].withUnsafeBufferPointer { out.append($0) }
        footer[footerHead] = row
        footerHead = (footerHead + 1) % footer.count
    }

    /// A rewritten value went straight into the output (no allocation per field); in the rare case that it holds an
    /// output special character (a `:` separator and a time, say), quote it after all.
    private mutating func requoteIfNeeded(from mark: Int) {
        guard out.bytes(from: mark).contains(where: { needsQuotes[Int($0)] }) else { return }
        let value = Array(out.bytes(from: mark))
        out.removeSubrange(mark...)
        value.withUnsafeBufferPointer { appendField($0) }
    }

    /// One field with RFC 4180 quoting: quoted only when it holds the separator, a quote, CR or LF.
    private mutating func appendField(_ value: UnsafeBufferPointer<UInt8>) {
        if value.contains(where: { needsQuotes[Int($0)] }) { appendQuoted(value) } else { out.append(value) }
    }

    private mutating func appendQuoted(_ value: UnsafeBufferPointer<UInt8>) {
        let begin = out.reserve(2 * value.count + 2)
        out.commit(Self.writeQuoted(value, at: begin) - begin)
    }

    /// Writes `value` quoted, its quotes doubled, where `cursor` points (room for `2 * count + 2` bytes); returns
    /// where it ended.
    @inline(__always)
    static func writeQuoted(_ value: UnsafeBufferPointer<UInt8>, at cursor: UnsafeMutablePointer<UInt8>)
        -> UnsafeMutablePointer<UInt8>
    {
        var cursor = cursor
        cursor.pointee = 34
        cursor += 1
        for byte in value {
            cursor.pointee = byte
            cursor += 1
            if byte == 34 {
                cursor.pointee = 34
                cursor += 1
            }
        }
        cursor.pointee = 34
        return cursor + 1
    }

    /// Whether the first `count` (≤ 8) bytes of `word` hold a double quote.
    @inline(__always)
    static func holdsQuote(_ word: UInt64, count: Int) -> Bool {
        // The lowest hit is exact (the trick's false hits lie above a true one): a hit within the value is a quote.
        let hits = WordScan.matches(word, 0x2222_2222_2222_2222)
        return hits != 0 && hits.trailingZeroBitCount >> 3 < count
    }

    /// Copies `value` to `cursor`, a short one byte by byte (a call to memcpy costs more than the copy), a longer one
    /// with memcpy. (Short values that allow an over-read take one load and store in the row loop.)
    @inline(__always)
    static func write(_ value: UnsafeBufferPointer<UInt8>, at cursor: inout UnsafeMutablePointer<UInt8>) {
        guard let source = value.baseAddress else { return }
        let count = value.count
        if count <= 8 {
            for index in 0..<count { cursor[index] = source[index] }
        } else {
            cursor.update(from: source, count: count)
        }
        cursor += count
    }

    /// A whole row (the header): fields by index, then the line end.
    private mutating func writeRow(count: Int, _ field: (Int) -> [UInt8]) {
        if count == 1 && field(0).isEmpty {
            out += [34, 34]
        } else {
            for index in 0..<count {
                if index > 0 { out.append(options.outputSeparator) }
                field(index).withUnsafeBufferPointer { appendField($0) }
            }
        }
        appendLineEnd()
    }
}

/// What is learnt about one `parse_dates` column while it streams.
struct DateColumn {
    /// How many non-empty values are looked at before a column that parsed none is reported.
    static let sample = 1000
    let label: String
    var tried = 0
    var parsed = 0
    var example: String?
    var warned = false
}
