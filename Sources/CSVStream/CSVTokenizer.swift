/// An RFC 4180 tokenizer over UTF-8 bytes, fed arbitrary chunks: a quote, a CRLF or a field may be split anywhere.
/// Quoted fields hold separators, doubled quotes and line breaks; CRLF, LF and lone CR end records; a stray quote
/// inside an unquoted field is kept as it is, and text after a closing quote is appended, as Python's csv module does.
/// `onRecord` sees each complete record: read where it lies in the input when it lies whole in one chunk (see
/// `scanRecord`), else from copies in one reused buffer. Each field also records whether it holds one of the
/// `notable` bytes (the writer's "needs quotes"), so that the writer need not scan it again.
@_spi(Internals) public struct CSVTokenizer {
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

    /// What each byte is to the tokenizer: a `ByteClass` kind, plus `notableBit`. Text that is not notable is 0, so
    /// a run of plain field text ends at the first non-zero byte: one table look-up per byte.
    private let classes: [UInt8]
    /// Whether plain records are offered whole (see `feed(_:plain:_:)`).
    private let offersPlainRecords: Bool
    /// Set while `onRecord` sees a record that lies whole in the chunk being fed: its fields are then read where they
    /// are in the input (from `starts` to `ends`), not from copies in `bytes`.
    private var external: UnsafePointer<UInt8>?
    private var externalEnd: UnsafePointer<UInt8>?
    private var starts = RawBuffer<Int>(capacity: 64)
    /// Records the scan read, and records whose shape it gave back to the byte loop (a doubled quote, an escape, a
    /// quoted line break: not a blank or comment line, not the chunk's end). When most are given back (doubled quotes
    /// on every row, say), the scan rests for `pause` records, then tries again.
    private var scanned = 0
    private var givenBack = 0
    private var resting = 0
    private static let pause = 1024
    /// The plain pass (see `scanPlain`): where the separators of the record are, and how many fields it has.
    private var cuts = RawBuffer<Int>(capacity: 64)
    private var plainFields = 0

    /// The record scan's search for the next byte that is not plain text (see `WordScan`).
    private let words: WordScan

    /// Byte classes of the record scan. Notable bytes carry `notableBit` as well.
    private enum ByteClass {
        static let text: UInt8 = 0
        static let separator: UInt8 = 1
        static let lineEnd: UInt8 = 2
        static let quote: UInt8 = 3
        static let escape: UInt8 = 4
        static let comment: UInt8 = 5
        static let notableBit: UInt8 = 8
        static let kindMask: UInt8 = 7
    }

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
        var classes = [UInt8](repeating: ByteClass.text, count: 256)
        for byte in notable { classes[Int(byte)] = ByteClass.notableBit }
        classes[Int(separator)] |= ByteClass.separator
        classes[10] |= ByteClass.lineEnd
        classes[13] |= ByteClass.lineEnd
        classes[Int(quote)] = classes[Int(quote)] & ByteClass.notableBit | ByteClass.quote
        if let escape { classes[Int(escape)] = classes[Int(escape)] & ByteClass.notableBit | ByteClass.escape }
        if let comment { classes[Int(comment)] = classes[Int(comment)] & ByteClass.notableBit | ByteClass.comment }
        self.classes = classes
        words = WordScan(separator: separator, quote: quote, escape: escape, comment: comment, notable: Set(notable))
    }

    public var fieldCount: Int { ends.count }

    public func field(_ index: Int) -> UnsafeBufferPointer<UInt8> {
        if let external {
            let start = starts[index]
            return UnsafeBufferPointer(start: external + start, count: (ends[index] >> 1) - start)
        }
        let start = index == 0 ? 0 : ends[index - 1] >> 1
        return UnsafeBufferPointer(rebasing: bytes.bytes[start..<(ends[index] >> 1)])
    }

    /// Where the memory the fields are read from ends: a writer may read a few bytes past a field's end up to here
    /// (to copy a short field in one load).
    var readableEnd: UnsafePointer<UInt8> {
        if external != nil, let externalEnd { return externalEnd }
        return bytes.bytes.baseAddress! + bytes.count
    }

    /// At least as many bytes as the record's fields hold together (exactly that many when they were copied).
    var recordBytes: Int {
        guard external != nil, let last = ends.bytes.last, let first = starts.bytes.first else { return bytes.count }
        return (last >> 1) - first
    }

    /// True when the field holds one of the `notable` bytes given at creation.
    public func fieldIsNotable(_ index: Int) -> Bool { ends[index] & 1 == 1 }

    /// A record with no characters at all (an empty line, or one holding only a comment).
    var isBlank: Bool { external == nil && ends.count == 1 && ends[0] == 0 && !sawQuoteOrSeparator }
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
            // A record that lies whole in this chunk is scanned once and read where it is (see `scanRecord`); the
            // byte loop below takes the rest: records across chunks, doubled quotes, escapes, comments, quoted line
            // breaks, blank lines.
            if case .fieldStart = state, ends.isEmpty, bytes.isEmpty, !sawQuoteOrSeparator {
                if resting > 0 {
                    resting -= 1
                } else {
                    var isPlain = offersPlain
                    let scan = scanRecord(input, from: index, plain: &isPlain)
                    if case .record(let end) = scan {
                        scanned += 1
                        records += 1
                        let raw = UnsafeRawBufferPointer(rebasing: input[index..<end])
                        let taken = isPlain ? try plain(raw, plainFields) : false
                        if !taken {
                            if isPlain { boundsFromCuts(from: index, upTo: end) }
                            external = input.baseAddress!.assumingMemoryBound(to: UInt8.self)
                            externalEnd = external! + count
                            defer { external = nil }
                            try onRecord(self)
                        }
                        starts.removeAll()
                        ends.removeAll()
                        line += 1
                        recordStartLine = line
                        index = end + 1
                        // A CR ends the record; an LF right after it belongs to it. Only a CR at the chunk's end leaves
                        // that open (a lone-CR file stays on the scan).
                        if input[end] == 13 {
                            if index == count { state = .afterCR } else if input[index] == 10 { index += 1 }
                        }
                        continue
                    }
                    if case .handover(.shape) = scan {
                        givenBack += 1
                        if givenBack > scanned / 2 + 64 { (resting, scanned, givenBack) = (Self.pause, 0, 0) }
                    }
                }
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
                    appendRun(input, from: &index)
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
                    appendRun(input, from: &index)
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

    /// What `scanRecord` made of a record.
    private enum Scan {
        /// Read: its line end is at `end`.
        case record(end: Int)
        /// Left to the byte loop, from its first byte.
        case handover(Handover)
    }

    private enum Handover {
        /// The record goes on past the chunk (or past the longest record allowed).
        case chunkEnds
        /// A blank line, or a comment line: the byte loop's to skip or keep; nothing was wasted.
        case blankOrComment
        /// A shape the scan does not read: a doubled quote, text after a closing quote, a quoted line break, an
        /// escape or a comment after text.
        case shape
    }

    /// What `scanPlain` made of a record.
    private enum PlainScan {
        /// Plain: its line end is at `end`; `cuts` hold its separators.
        case plain(end: Int)
        /// Not plain: the full scan takes it from the start of the field after the last cut.
        case spoiled
        case handover(Handover)
    }

    /// Scans the record at `start` when it lies whole in `input` and every field is simple — unquoted text, or quoted
    /// text without a doubled quote, escape or line break, closed right before a separator or the line end. Its
    /// fields' bounds in `input` go to `starts` and `ends` (with their notable flags), and the index of its line
    /// end is returned. With `plain` set, a plain record (text and separators only) is looked for first: one found
    /// keeps `plain` set and leaves only `cuts` and `plainFields` (see `boundsFromCuts`); otherwise `plain` is
    /// cleared. A record it cannot read is handed over with `starts` and `ends` empty, for the byte loop to take from
    /// its first byte.
    @inline(__always)
    private mutating func scanRecord(_ input: UnsafeRawBufferPointer, from start: Int, plain: inout Bool) -> Scan {
        let limit = min(input.count, start + maxRecordBytes)
        let bytes = input.baseAddress!.assumingMemoryBound(to: UInt8.self)
        var index = start
        var handedOver = false
        if plain {
            // Rows of text and separators only are most rows of most files, and taken whole: their separators
            // alone are noted. The first byte that makes the row not plain hands over to the full scan at the
            // start of its field, with the fields before it as they are.
            switch scanPlain(bytes, from: start, limit: limit) {
            case .plain(let end): return .record(end: end)
            case .handover(let reason): return .handover(reason)
            case .spoiled:
                plain = false
                handedOver = true
            }
        }
        // Field bounds are written through local cursors, committed at the end: an append per bound through `self`
        // cost a third of the scan.
        var fields = 0
        var room = min(starts.spare, ends.spare)
        var startsOut = starts.reserve(0)
        var endsOut = ends.reserve(0)
        func put(_ fieldStart: Int, _ end: Int, _ flags: UInt8) {
            if fields == room {
                starts.commit(fields)
                ends.commit(fields)
                startsOut = starts.reserve(fields + 16) - fields
                endsOut = ends.reserve(fields + 16) - fields
                starts.removeSubrange(0...)
                ends.removeSubrange(0...)
                room = min(starts.spare, ends.spare)
            }
            startsOut[fields] = fieldStart
            endsOut[fields] = end << 1 | Int((flags & ByteClass.notableBit) >> 3)
            fields += 1
        }
        if handedOver {
            for cut in cuts.bytes {
                put(index, cut, 0)
                index = cut + 1
            }
        }
        let words = self.words  // a local: its patterns may stay in registers
        let answer: Scan = classes.withUnsafeBufferPointer { classes in
            while true {
                var fieldStart = index
                var flags: UInt8 = 0
                var kind: UInt8
                if index < limit && classes[Int(bytes[index])] & ByteClass.kindMask == ByteClass.quote {
                    index += 1
                    fieldStart = index
                    var contentKind = ByteClass.text
                    var notable = false
                    while words.skip(bytes, &index, limit: limit, quoted: true, notable: &notable, classes: classes) {
                        let content = classes[Int(bytes[index])]
                        let kind = content & ByteClass.kindMask
                        if kind == ByteClass.quote || kind == ByteClass.lineEnd || kind == ByteClass.escape {
                            contentKind = kind
                            break
                        }
                        flags |= content  // a control byte, or a separator among them, inside the quotes
                        index += 1
                    }
                    if notable { flags |= ByteClass.notableBit }
                    guard index < limit else { return .handover(.chunkEnds) }
                    guard contentKind == ByteClass.quote else { return .handover(.shape) }
                    put(fieldStart, index, flags)
                    index += 1
                    guard index < limit else { return .handover(.chunkEnds) }
                    kind = classes[Int(bytes[index])] & ByteClass.kindMask
                    guard kind == ByteClass.separator || kind == ByteClass.lineEnd else { return .handover(.shape) }
                } else {
                    // The field's end found eight bytes at a time (see `WordScan`): short fields of varying length
                    // made a byte loop mispredict once per field.
                    kind = ByteClass.text
                    var notable = false
                    while words.skip(bytes, &index, limit: limit, quoted: false, notable: &notable, classes: classes) {
                        let byteClass = classes[Int(bytes[index])]
                        kind = byteClass & ByteClass.kindMask
                        if kind == ByteClass.separator || kind == ByteClass.lineEnd { break }
                        // A stray quote inside the field is kept as text; an escape or comment character is the byte
                        // loop's.
                        guard kind == ByteClass.text || kind == ByteClass.quote else {
                            return .handover(Self.handover(kind, at: index, start: start))
                        }
                        flags |= byteClass  // a notable byte the word search does not flag (a tab, say)
                        index += 1
                        kind = ByteClass.text
                    }
                    if notable { flags |= ByteClass.notableBit }
                    guard index < limit else { return .handover(.chunkEnds) }
                    put(fieldStart, index, flags)
                }
                if kind == ByteClass.lineEnd { break }
                index += 1  // past the separator
            }
            if index == start { return .handover(.blankOrComment) }  // a blank line
            return .record(end: index)
        }
        if case .record = answer {
            starts.commit(fields)
            ends.commit(fields)
        }
        return answer
    }

    /// An escape or comment character in unquoted text: a comment line when it is the record's first byte.
    private static func handover(_ kind: UInt8, at index: Int, start: Int) -> Handover {
        kind == ByteClass.comment && index == start ? .blankOrComment : .shape
    }

    /// The plain pass of `scanRecord`: the separators' positions go to `cuts`, eight bytes at a time.
    @inline(__always)
    private mutating func scanPlain(_ bytes: UnsafePointer<UInt8>, from start: Int, limit: Int) -> PlainScan {
        cuts.removeAll()
        var index = start
        return classes.withUnsafeBufferPointer { classes -> PlainScan in
            // A flagged byte: a separator (noted), text the word trick flagged (passed), or the end of the pass.
            func look(at position: Int) -> PlainScan? {
                let byteClass = classes[Int(bytes[position])]
                if byteClass & ByteClass.kindMask == ByteClass.separator {
                    cuts.append(position)
                    return nil
                }
                if byteClass == 0 { return nil }
                guard byteClass & ByteClass.kindMask == ByteClass.lineEnd else { return .spoiled }
                if position == start { return .handover(.blankOrComment) }
                plainFields = cuts.count + 1
                return .plain(end: position)
            }
            while words.wide && index + 8 <= limit {
                var mask = words.plainStops(UnsafeRawPointer(bytes + index).loadUnaligned(as: UInt64.self))
                while mask != 0 {
                    if let answer = look(at: index + mask.trailingZeroBitCount >> 3) { return answer }
                    mask &= mask &- 1
                }
                index += 8
            }
            while index < limit {
                if classes[Int(bytes[index])] != 0, let answer = look(at: index) { return answer }
                index += 1
            }
            return .handover(.chunkEnds)
        }
    }

    /// Field bounds from the plain pass's separators: every field before the last cut, and the last one too when
    /// the record ends at `end`.
    private mutating func boundsFromCuts(from start: Int, upTo end: Int?) {
        var fieldStart = start
        for cut in cuts.bytes {
            starts.append(fieldStart)
            ends.append(cut << 1)
            fieldStart = cut + 1
        }
        if let end {
            starts.append(fieldStart)
            ends.append(end << 1)
        }
    }

    /// Copies bytes from `index` up to the next one that is not plain text (in either state: a byte that means
    /// nothing in the current one, a separator inside quotes say, takes the one-byte path and is kept), at once.
    @inline(__always)
    private mutating func appendRun(_ input: UnsafeRawBufferPointer, from index: inout Int) {
        var end = index
        classes.withUnsafeBufferPointer { classes in
            while end < input.count && classes[Int(input[end])] == 0 { end += 1 }
        }
        if end > index {
            bytes.append(UnsafeRawBufferPointer(rebasing: input[index..<end]))
            index = end
        }
    }

    @inline(__always)
    private mutating func appendByte(_ byte: UInt8) {
        fieldNotable |= Int(classes[Int(byte)] & ByteClass.notableBit) >> 3
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
