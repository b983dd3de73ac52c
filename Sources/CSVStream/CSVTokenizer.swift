/// An RFC 4180 tokenizer over UTF-8 bytes, fed arbitrary chunks: a quote, a CRLF or a field may be split anywhere.
/// Quoted fields hold separators, doubled quotes and line breaks; CRLF, LF and lone CR end records; a stray quote
/// inside an unquoted field is kept as it is, and text after a closing quote is appended, as Python's csv module does.
/// Fields go into one reused buffer; `onRecord` sees each complete record. Each field also records whether it holds
/// one of the `notable` bytes (the writer's "needs quotes"), so that the writer need not scan it again.
public struct CSVTokenizer {
    /// The current record: all field bytes back to back, and where each field ends (times two, plus one when the field
    /// holds a notable byte). Raw buffers: Array appends cost a runtime uniqueness check each (measured).
    private var bytes = ByteWriter(capacity: 4096)
    private var ends = RawBuffer<Int>(capacity: 64)
    private var fieldNotable = 0

    private enum State {
        case fieldStart
        case unquoted
        case quoted
        case quoteInQuoted
        case escaped(inQuotes: Bool)
        case comment
        case afterCR
    }

    let separator: UInt8
    let quote: UInt8
    let escape: UInt8?
    let comment: UInt8?
    let maxRecordBytes: Int
    private var state = State.fieldStart
    /// Records completed so far (1-based number of the one being read is this + 1).
    public private(set) var records = 0
    /// Line of the input where the current record started, for messages.
    private(set) var recordStartLine = 1
    private(set) var line = 1

    public struct TooLong: Error {}

    /// Bytes that end a run of plain field text, outside and inside quotes: one table look-up per byte on the hot
    /// path instead of four comparisons (two of them with optionals).
    private let stopsUnquoted: [Bool]
    private let stopsQuoted: [Bool]
    private let notable: [Bool]
    /// Bytes that end or spoil a plain record (see `feed(_:plain:_:)`): the separator (counted), line ends, the
    /// quote, escape and comment characters, and the notable bytes.
    private let stopsPlain: [Bool]
    /// Whether `feed` looks for plain records at all (a wasted scan per row for a caller that never takes them).
    private let offersPlainRecords: Bool
    /// The separators' positions in the input, of the plain text scanned last.
    private var cuts = RawBuffer<Int>(capacity: 64)

    public init(
        separator: UInt8, quote: UInt8, escape: UInt8?, comment: UInt8?, maxRecordBytes: Int, notable: [UInt8] = [],
        offersPlainRecords: Bool = false
    ) {
        self.offersPlainRecords = offersPlainRecords
        self.separator = separator
        self.quote = quote
        self.escape = escape
        self.comment = comment
        self.maxRecordBytes = maxRecordBytes
        var marks = [Bool](repeating: false, count: 256)
        for byte in notable { marks[Int(byte)] = true }
        self.notable = marks
        // Runs of plain text also stop at notable bytes, which then take the one-byte path that flags the field.
        var unquoted = marks
        for byte in [separator, 10, 13] + [escape, comment].compactMap({ $0 }) { unquoted[Int(byte)] = true }
        stopsUnquoted = unquoted
        var quoted = marks
        for byte in [quote, 10] + [escape].compactMap({ $0 }) { quoted[Int(byte)] = true }
        stopsQuoted = quoted
        var plain = unquoted
        plain[Int(quote)] = true
        stopsPlain = plain
    }

    public var fieldCount: Int { ends.count }

    public func field(_ index: Int) -> UnsafeBufferPointer<UInt8> {
        let start = index == 0 ? 0 : ends[index - 1] >> 1
        return UnsafeBufferPointer(rebasing: bytes.bytes[start..<(ends[index] >> 1)])
    }

    /// True when the field holds one of the `notable` bytes given at creation.
    public func fieldIsNotable(_ index: Int) -> Bool { ends[index] & 1 == 1 }

    /// A record with no characters at all (an empty line, or one holding only a comment).
    var isBlank: Bool { ends.count == 1 && ends[0] == 0 && !sawQuoteOrSeparator }
    private var sawQuoteOrSeparator = false

    /// True when the input ended inside a quoted field.
    var insideQuotes: Bool {
        switch state {
        case .quoted, .escaped(inQuotes: true): return true
        default: return false
        }
    }

    /// Feeds `input`; `onRecord` runs for each complete record (its fields readable through `field(_:)`).
    public mutating func feed(
        _ input: UnsafeRawBufferPointer, _ onRecord: (borrowing CSVTokenizer) throws(CSVError) -> Void
    ) throws(CSVError) -> Result<Void, TooLong> {
        try feed(input, plain: { (_, _) throws(CSVError) in false }, onRecord)
    }

    /// Feeds `input`, offering each plain record whole to `plain` first (when made with `offersPlainRecords`): one
    /// that lies in this chunk and holds no quote, escape, comment or notable byte — only text and separators. It
    /// gets the record's bytes (without the line end) and its field count, and returns true when it took the record
    /// (which then counts as read) or false to have it tokenized as usual. Most rows of most files are plain, and a
    /// writer that would copy their fields unchanged can copy the row instead.
    public mutating func feed(
        _ input: UnsafeRawBufferPointer, plain: (UnsafeRawBufferPointer, Int) throws(CSVError) -> Bool,
        _ onRecord: (borrowing CSVTokenizer) throws(CSVError) -> Void
    ) throws(CSVError) -> Result<Void, TooLong> {
        var index = 0
        let count = input.count
        let offersPlain = offersPlainRecords  // a register, not a load per byte
        while index < count {
            if offersPlain, case .fieldStart = state, ends.isEmpty, bytes.isEmpty, !sawQuoteOrSeparator {
                let end = scanPlain(input, from: index)
                if end < count, input[end] == 10 || input[end] == 13, end > index,
                    try plain(UnsafeRawBufferPointer(rebasing: input[index..<end]), cuts.count + 1)
                {
                    records += 1
                    line += 1
                    recordStartLine = line
                    index = end + 1
                    if input[end] == 13 {
                        if index < count && input[index] == 10 { index += 1 } else { state = .afterCR }
                    }
                    continue
                }
                // Not taken: the scanned text becomes fields just as the byte loop below would have made them, and
                // the loop goes on from the byte that stopped the scan (scanned once either way).
                var fieldStart = index
                for cut in cuts.bytes {
                    bytes.append(UnsafeRawBufferPointer(rebasing: input[fieldStart..<cut]))
                    endField()
                    fieldStart = cut + 1
                }
                if !cuts.isEmpty { sawQuoteOrSeparator = true }
                if end > fieldStart {
                    bytes.append(UnsafeRawBufferPointer(rebasing: input[fieldStart..<end]))
                    state = .unquoted
                }
                index = end
                if index == count { break }
            }
            let byte = input[index]
            index += 1
            switch state {
            case .afterCR:
                state = .fieldStart
                if byte == 10 { continue }
                fallthrough
            case .fieldStart:
                if byte == quote {
                    sawQuoteOrSeparator = true
                    state = .quoted
                } else if byte == separator {
                    sawQuoteOrSeparator = true
                    endField()
                } else if byte == 10 || byte == 13 {
                    try endRecord(byte, onRecord)
                } else if byte == comment {
                    state = .comment
                } else if byte == escape {
                    state = .escaped(inQuotes: false)
                } else {
                    appendByte(byte)
                    state = .unquoted
                    // Copy the rest of a plain field in one go: the common case.
                    appendRun(input, from: &index, until: stopsUnquoted)
                }
            case .unquoted:
                if byte == separator {
                    sawQuoteOrSeparator = true
                    endField()
                    state = .fieldStart
                } else if byte == 10 || byte == 13 {
                    try endRecord(byte, onRecord)
                } else if byte == comment {
                    state = .comment
                } else if byte == escape {
                    state = .escaped(inQuotes: false)
                } else {
                    appendByte(byte)  // a stray quote stays as it is
                }
            case .quoted:
                if byte == quote {
                    state = .quoteInQuoted
                } else if byte == escape {
                    state = .escaped(inQuotes: true)
                } else {
                    if byte == 10 { line += 1 }
                    appendByte(byte)
                    appendRun(input, from: &index, until: stopsQuoted)
                }
            case .quoteInQuoted:
                if byte == quote {
                    appendByte(quote)
                    state = .quoted
                } else if byte == separator {
                    endField()
                    state = .fieldStart
                } else if byte == 10 || byte == 13 {
                    try endRecord(byte, onRecord)
                } else {
                    appendByte(byte)
                    state = .unquoted
                }
            case .escaped(let inQuotes):
                if byte == 10 { line += 1 }
                appendByte(byte)
                state = inQuotes ? .quoted : .unquoted
            case .comment:
                if byte == 10 || byte == 13 { try endRecord(byte, onRecord) }
            }
            if bytes.count > maxRecordBytes { return .failure(TooLong()) }
        }
        return .success(())
    }

    /// Where plain text (field bytes and separators) starting at `start` stops: at a line end for a plain record, else
    /// at a special byte, the end of the input, or the longest record allowed. The separators' positions go to `cuts`.
    @inline(__always)
    private mutating func scanPlain(_ input: UnsafeRawBufferPointer, from start: Int) -> Int {
        var end = start
        let limit = min(input.count, start + maxRecordBytes)
        cuts.removeAll()
        stopsPlain.withUnsafeBufferPointer { stops in
            while end < limit {
                let byte = input[end]
                if stops[Int(byte)] {
                    guard byte == separator else { break }
                    cuts.append(end)
                }
                end += 1
            }
        }
        return end
    }

    /// Copies bytes from `index` up to the next one that `stops` marks, at once.
    @inline(__always)
    private mutating func appendRun(_ input: UnsafeRawBufferPointer, from index: inout Int, until stops: [Bool]) {
        var end = index
        stops.withUnsafeBufferPointer { stops in
            while end < input.count && !stops[Int(input[end])] { end += 1 }
        }
        if end > index {
            bytes.append(UnsafeRawBufferPointer(rebasing: input[index..<end]))
            index = end
        }
    }

    @inline(__always)
    private mutating func appendByte(_ byte: UInt8) {
        if notable[Int(byte)] { fieldNotable = 1 }
        bytes.append(byte)
    }

    @inline(__always)
    private mutating func endField() {
        ends.append(bytes.count << 1 | fieldNotable)
        fieldNotable = 0
    }

    /// The input ended: a last record without a line break is still a record.
    public mutating func finish(_ onRecord: (borrowing CSVTokenizer) throws(CSVError) -> Void) throws(CSVError) {
        switch state {
        case .fieldStart where ends.isEmpty && bytes.isEmpty && !sawQuoteOrSeparator, .afterCR:
            return
        default:
            try endRecord(10, onRecord)
        }
    }

    private mutating func endRecord(
        _ byte: UInt8, _ onRecord: (borrowing CSVTokenizer) throws(CSVError) -> Void
    ) throws(CSVError) {
        endField()
        records += 1
        try onRecord(self)
        bytes.removeAll()
        ends.removeAll()
        sawQuoteOrSeparator = false
        line += 1
        recordStartLine = line
        state = byte == 13 ? .afterCR : .fieldStart
    }
}
