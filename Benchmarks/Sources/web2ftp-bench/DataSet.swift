import Foundation

/// The benchmark's input files, generated the same way on every machine (a fixed-seed xorshift), into the directory
/// nginx serves. Existing files of the right size are kept: generating 3 GiB takes a while.
enum DataSet {
    static let bigSizes: [(name: String, bytes: Int)] = [
        ("bench-100m.csv", 100 << 20), ("bench-1g.csv", 1 << 30), ("bench-2g.csv", 2 << 30),
    ]
    /// The whole path under callgrind (issue #16): the 64 MiB run minus the 32 MiB run.
    static let pathSizes: [(name: String, bytes: Int)] = [("bench-32m.csv", 32 << 20), ("bench-64m.csv", 64 << 20)]
    static let latin1 = (name: "bench-latin1.csv", bytes: 100 << 20)
    /// Short fields, as real files have them (issue #13).
    static let short = (name: "bench-short.csv", bytes: 100 << 20)
    static let smallCount = 1000
    static let smallBytes = 10 * 1024

    static func smallName(_ index: Int) -> String { "small/f\(String(index + 10000).dropFirst()).csv" }

    static func generate(into directory: String, quick: Bool) throws {
        let sizes = quick ? bigSizes.filter { $0.bytes <= 1 << 30 } : bigSizes
        for (name, bytes) in sizes + pathSizes {
            try write(directory + "/" + name, bytes: bytes, seed: 1) { rows.append(into: &$0) }
        }
        try write(directory + "/" + latin1.name, bytes: latin1.bytes, seed: 2) { latin1Rows.append(into: &$0) }
        try write(directory + "/" + short.name, bytes: short.bytes, seed: 3) { RowKind.short.append(into: &$0) }
        try FileManager.default.createDirectory(atPath: directory + "/small", withIntermediateDirectories: true)
        for index in 0..<smallCount {
            try write(directory + "/" + smallName(index), bytes: smallBytes, seed: UInt64(100 + index)) {
                rows.append(into: &$0)
            }
        }
    }

    /// Writes header + rows until `bytes` is reached, cutting the last row at a row boundary (so a little short).
    private static func write(_ path: String, bytes: Int, seed: UInt64, row: (inout Rows) -> Void) throws {
        if let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int,
            size > bytes - 4096 && size <= bytes
        {
            return
        }
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        guard let handle = FileHandle(forWritingAtPath: path) else { fail("cannot write \(path)") }
        defer { try? handle.close() }
        var state = Rows(seed: seed)
        row(&state)  // the header
        var written = 0
        while true {
            while state.buffer.count < 1 << 20 { row(&state) }
            let room = bytes - written
            if state.buffer.count > room {
                // Cut at the last complete row that fits.
                let cut = state.buffer[..<room].lastIndex(of: 10).map { $0 + 1 } ?? 0
                try handle.write(contentsOf: state.buffer[..<cut])
                return
            }
            try handle.write(contentsOf: state.buffer)
            written += state.buffer.count
            state.buffer.removeAll(keepingCapacity: true)
        }
    }

    private static let rows = RowKind.utf8
    private static let latin1Rows = RowKind.latin1
}

enum RowKind {
    /// `id,name,date,amount,city,comment` with ISO dates and a quoted comment holding the separator.
    case utf8
    /// The `utf8` columns with a comment that needs no quotes: every row plain (text and separators only), which the
    /// transformer copies whole when nothing rewrites its values.
    case plain
    /// `Nr;Name;Datum;Betrag;Ort` in latin-1, `;`-separated, German dates and decimal commas, names with umlauts.
    case latin1
    /// Short fields, as real files have them (issue #13): 24 fields of 1–8 bytes per ~100-byte row, latin-1,
    /// `;`-separated, decimal commas, codes and flags, one field in eight quoted (some holding the separator).
    case short

    func append(into rows: inout Rows) {
        if rows.row == 0 {
            switch self {
            case .latin1: rows.text("Nr;Name;Datum;Betrag;Ort\n")
            case .short: rows.text((0..<24).map { "c\($0)" }.joined(separator: ";") + "\n")
            default: rows.text("id,name,date,amount,city,comment\n")
            }
            rows.row = 1
            return
        }
        let r = rows.next()
        let day = 1 + Int(r % 28)
        let month = 1 + Int(r >> 8 % 12)
        let year = 2000 + Int(r >> 16 % 26)
        switch self {
        case .utf8, .plain:
            rows.number(rows.row)
            rows.byte(44)
            rows.text("name")
            rows.number(Int(r >> 20 % 100_000))
            rows.byte(44)
            rows.number(year)
            rows.byte(45)
            rows.padded(month)
            rows.byte(45)
            rows.padded(day)
            rows.byte(44)
            rows.number(Int(r >> 24 % 100_000))
            rows.byte(46)
            rows.padded(Int(r >> 40 % 100))
            rows.byte(44)
            rows.text("City")
            rows.number(Int(r >> 32 % 500))
            rows.byte(44)
            if self == .plain {
                rows.text("some text without a comma ")
                rows.number(rows.row)
                rows.byte(10)
            } else {
                rows.text("\"some text, with a comma ")
                rows.number(rows.row)
                rows.text("\"\n")
            }
        case .latin1:
            rows.number(rows.row)
            rows.byte(59)
            rows.text(["M", "K", "B", "S"][Int(r % 4)])
            rows.byte(0xFC)
            rows.text("ller ")  // ü in latin-1
            rows.number(Int(r >> 20 % 1000))
            rows.byte(59)
            rows.padded(day)
            rows.byte(46)
            rows.padded(month)
            rows.byte(46)
            rows.number(year)
            rows.byte(59)
            rows.number(1 + Int(r >> 24 % 9))
            rows.byte(46)
            rows.number(100 + Int(r >> 28 % 900))
            rows.byte(44)
            rows.padded(Int(r >> 40 % 100))
            rows.byte(59)
            rows.text("Stra")
            rows.byte(0xDF)
            rows.text("burg ")
            rows.number(Int(r >> 32 % 50))
            rows.byte(10)
        case .short:
            rows.shortRow(r)
        }
        rows.row += 1
    }
}

struct Rows {
    var buffer: [UInt8] = []
    var row = 0
    private var state: UInt64

    init(seed: UInt64) {
        state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        buffer.reserveCapacity(1 << 21)
    }

    mutating func next() -> UInt64 {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return state
    }

    mutating func byte(_ value: UInt8) { buffer.append(value) }
    mutating func text(_ value: String) { buffer.append(contentsOf: value.utf8) }

    mutating func number(_ value: Int) {
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        var rest = value
        withUnsafeMutableBytes(of: &digits) { raw in
            repeat {
                raw[count] = UInt8(48 + rest % 10)
                rest /= 10
                count += 1
            } while rest > 0
            for index in stride(from: count - 1, through: 0, by: -1) { buffer.append(raw[index]) }
        }
    }

    /// One row of the `short` kind: 24 fields of 1–8 bytes; the mix of shapes cycles with the random bits.
    mutating func shortRow(_ seed: UInt64) {
        var r = seed
        for column in 0..<24 {
            if column > 0 { byte(59) }
            let pick = Int(r & 7)
            r = r >> 3 | r << 61
            switch (column + pick) % 8 {
            case 0: number(Int(r % 10))  // a flag or a count
            case 1:
                number(Int(r % 100_000))
                byte(44)
                padded(Int(r >> 17 % 100))  // decimal comma
            case 2:
                text(["A", "B", "X", "ZZ"][pick & 3])
                number(Int(r % 100))  // a code
            case 3: break  // empty
            case 4:
                text("M")
                byte(0xFC)
                text("n")  // "Mün", latin-1
            case 5:
                byte(34)
                text("a;b")
                byte(34)  // quoted, holding the separator
            case 6:
                number(Int(r % 1000))
                byte(44)
                number(Int(r >> 9 % 10))
            default: text(["ja", "nein", "k.A.", "-"][pick & 3])
            }
        }
        byte(10)
    }

    mutating func padded(_ value: Int) {
        if value < 10 { buffer.append(48) }
        number(value)
    }
}
