/// The record scan's search for the end of an unquoted field, eight bytes at a time: a mask of the bytes that end or
/// spoil the field (separator, quote, escape, comment, and every control byte below 14, line ends among them) and one
/// of the other notable bytes, each made with the classic zero-byte (or less-than) trick on the word. The trick can
/// flag a byte above a true match, never below one, so the lowest flagged stop is exact, and so is "a notable byte
/// before it". A control byte that is not a line end is text: the caller steps over it. The last bytes before the
/// limit, and every byte when the notable bytes are too many for the word masks, go one at a time through the
/// tokenizer's byte classes.
struct WordScan {
    /// Whether the word masks cover the notable bytes (at most two besides the stops).
    let wide: Bool
    private let separator: UInt64
    private let quote: UInt64
    /// Escape and comment characters, when the options have any (else the separator again).
    private let extras: (UInt64, UInt64)
    private let hasExtras: Bool
    private let notables: (UInt64, UInt64)
    private let notableCount: Int
    /// Inside quotes only the quote, the escape character and control bytes stop; the separator is text there, and
    /// notable when it is one.
    private let escape: UInt64?
    private let quotedNotables: (UInt64, UInt64)
    private let quotedNotableCount: Int

    private static let ones: UInt64 = 0x0101_0101_0101_0101
    private static let highs: UInt64 = 0x8080_8080_8080_8080

    init(separator: UInt8, quote: UInt8, escape: UInt8?, comment: UInt8?, notable: Set<UInt8>) {
        let stopBytes = [separator, quote, escape ?? separator, comment ?? separator]
        let others = notable.subtracting(stopBytes).filter { $0 >= 14 }.sorted()
        let quotedOthers = notable.subtracting([quote, escape ?? quote]).filter { $0 >= 14 }.sorted()
        wide = others.count <= 2 && quotedOthers.count <= 2
        let pattern = { (byte: UInt8) in Self.ones &* UInt64(byte) }
        self.separator = pattern(separator)
        self.quote = pattern(quote)
        extras = (pattern(escape ?? separator), pattern(comment ?? separator))
        hasExtras = escape != nil || comment != nil
        notables = (pattern(others.first ?? separator), pattern(others.last ?? separator))
        notableCount = others.count
        self.escape = escape.map(pattern)
        quotedNotables = (pattern(quotedOthers.first ?? quote), pattern(quotedOthers.last ?? quote))
        quotedNotableCount = quotedOthers.count
    }

    /// The high bit of each byte of `word` equal to `pattern`'s (a byte repeated eight times); exact for the lowest.
    @inline(__always)
    static func matches(_ word: UInt64, _ pattern: UInt64) -> UInt64 {
        let x = word ^ pattern
        return (x &- ones) & ~x & highs
    }

    /// The high bit of each byte of `word` (little-endian) that ends or spoils an unquoted field, or is a control
    /// byte below 14.
    @inline(__always)
    func unquotedStops(_ word: UInt64) -> UInt64 {
        var mask = (word &- Self.ones &* 14) & ~word & Self.highs
        mask |= Self.matches(word, separator) | Self.matches(word, quote)
        if hasExtras { mask |= Self.matches(word, extras.0) | Self.matches(word, extras.1) }
        return mask
    }

    /// The high bit of each byte that is not plain text outside quotes: the unquoted stops and the notable bytes.
    @inline(__always)
    func plainStops(_ word: UInt64) -> UInt64 { unquotedStops(word) | unquotedNotables(word) }

    /// Moves `index` over text to the next byte the field's context flags (a stop, a control byte, or in the last
    /// bytes any byte whose class is not plain text: the caller looks it up) and returns true, or to `limit` and
    /// returns false. `notable` is set when a notable byte was passed.
    @inline(__always)
    func skip(
        _ bytes: UnsafePointer<UInt8>, _ index: inout Int, limit: Int, quoted: Bool, notable: inout Bool,
        classes: UnsafeBufferPointer<UInt8>
    ) -> Bool {
        while wide && index + 8 <= limit {
            let word = UnsafeRawPointer(bytes + index).loadUnaligned(as: UInt64.self)
            let stops = quoted ? quotedStops(word) : unquotedStops(word)
            let notes = quoted ? quotedNotables(word) : unquotedNotables(word)
            guard stops != 0 else {
                if notes != 0 { notable = true }
                index += 8
                continue
            }
            let stop = stops.trailingZeroBitCount
            // Bits below the first stop (an exact match; false hits of the trick lie above it).
            if notes & ((1 << stop) &- 1) != 0 { notable = true }
            index += stop >> 3
            return true
        }
        while index < limit {
            if classes[Int(bytes[index])] != 0 { return true }
            index += 1
        }
        return false
    }

    /// The high bit of each byte of `word` that ends quoted text (the quote), spoils it for the scan (the escape
    /// character), or is a control byte below 14.
    @inline(__always)
    func quotedStops(_ word: UInt64) -> UInt64 {
        var mask = (word &- Self.ones &* 14) & ~word & Self.highs | Self.matches(word, quote)
        if let escape { mask |= Self.matches(word, escape) }
        return mask
    }

    /// The high bit of each byte inside quotes that is notable (and not a stop or a control byte).
    @inline(__always)
    func quotedNotables(_ word: UInt64) -> UInt64 { Self.matches(word, quotedNotables, count: quotedNotableCount) }

    /// The high bit of each byte that is notable (and not a stop or a control byte).
    @inline(__always)
    func unquotedNotables(_ word: UInt64) -> UInt64 { Self.matches(word, notables, count: notableCount) }

    /// Matches of the first `count` (0, 1 or 2) of `patterns`.
    @inline(__always)
    private static func matches(_ word: UInt64, _ patterns: (UInt64, UInt64), count: Int) -> UInt64 {
        switch count {
        case 0: return 0
        case 1: return matches(word, patterns.0)
        default: return matches(word, patterns.0) | matches(word, patterns.1)
        }
    }
}
