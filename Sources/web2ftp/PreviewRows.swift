/// Where a preview stops: after so many lines of CSV, counted by their line ends outside quotes (a quoted value may
/// hold a line break). Pure, so it is table-tested; it sees the bytes as they are written, in any chunks.
struct PreviewRows {
    /// The quote character of the bytes counted (the transform writes `"`; a file passed through keeps its own).
    let quote: UInt8
    /// The byte that ends a line: `\n` (which `\r\n` ends with too), or `\r` for a file ending lines with it alone.
    let lineEnd: UInt8
    /// Line ends still wanted; nil: all of them.
    private(set) var remaining: Int?
    /// Line ends taken so far.
    private(set) var taken = 0
    private var quoted = false

    init(lines: Int?, quote: UInt8 = UInt8(ascii: "\""), lineEnd: UInt8 = UInt8(ascii: "\n")) {
        remaining = lines
        self.quote = quote
        self.lineEnd = lineEnd
    }

    /// All the lines wanted are taken.
    var complete: Bool { remaining == 0 }

    /// How many leading bytes of `bytes` to keep: all of them, or up to the last line end wanted.
    mutating func take(_ bytes: some Collection<UInt8>) -> Int {
        var kept = 0
        for byte in bytes {
            guard remaining != 0 else { break }
            kept += 1
            if byte == quote {
                quoted.toggle()
            } else if byte == lineEnd && !quoted {
                taken += 1
                remaining = remaining.map { $0 - 1 }
            }
        }
        return kept
    }
}
