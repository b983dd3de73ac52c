/// The input encodings a source may declare. Output is always UTF-8.
public enum CSVEncoding: String, Sendable, CaseIterable {
    case utf8 = "utf-8"
    case utf8Signature = "utf-8-sig"
    case latin1 = "latin-1"
    case latin9 = "iso-8859-15"
    case cp1252
    case utf16 = "utf-16"

    /// Matches names as Python's codecs do: case-insensitive, `-`, `_` and space alike, the usual aliases.
    @_spi(Internals) public init?(pythonName name: String) {
        let key = String(name.lowercased().map { $0 == "_" || $0 == " " ? "-" : $0 })
        let compact = key.filter { $0 != "-" }
        switch compact {
        case "utf8", "u8", "utf", "cp65001": self = .utf8
        case "utf8sig": self = .utf8Signature
        case "latin1", "latin", "l1", "iso88591", "iso885911987", "8859", "cp819", "isoir100": self = .latin1
        case "iso885915", "latin9", "l9": self = .latin9
        case "cp1252", "windows1252": self = .cp1252
        case "utf16", "u16": self = .utf16
        default: return nil
        }
    }
}

/// Turns input bytes in a declared encoding into UTF-8, chunk by chunk: a multi-byte sequence may be split anywhere
/// between chunks. A leading byte-order mark is dropped. Invalid input is an error at its byte offset, or U+FFFD
/// when `replace` is set.
struct TextDecoder {
    let encoding: CSVEncoding
    let replace: Bool
    /// Bytes of an incomplete sequence carried to the next chunk (at most 3).
    private var carry: [UInt8] = []
    private var atStart = true
    private var bigEndian = false
    /// Input bytes consumed so far.
    private(set) var offset: UInt64 = 0

    struct InvalidByte: Error {
        let offset: UInt64
        let byte: UInt8
    }

    init(encoding: CSVEncoding, replace: Bool) {
        self.encoding = encoding
        self.replace = replace
    }

    /// Decodes `input`, appending UTF-8 to `output`. `final`: no more input follows (an incomplete tail is invalid).
    mutating func decode(_ input: UnsafeRawBufferPointer, into output: inout ByteWriter, final: Bool)
        throws(InvalidByte)
    {
        if carry.isEmpty {
            try decodeBody(input, into: &output, final: final)
        } else {
            var joined = carry
            joined.append(contentsOf: input)
            carry.removeAll(keepingCapacity: true)
            offset -= UInt64(joined.count - input.count)
            // withUnsafeBytes rethrows untyped errors: the typed one travels out as a value.
            let outcome: Result<Void, InvalidByte> = joined.withUnsafeBytes { bytes in
                do throws(InvalidByte) {
                    try decodeBody(bytes, into: &output, final: final)
                    return .success(())
                } catch {
                    return .failure(error)
                }
            }
            try outcome.get()
        }
    }

    private mutating func decodeBody(
        _ input: UnsafeRawBufferPointer, into output: inout ByteWriter, final: Bool
    ) throws(InvalidByte) {
        var index = 0
        if atStart {
            guard let skip = try byteOrderMark(input, final: final) else {
                carry.append(contentsOf: input)  // too short to tell yet
                offset += UInt64(input.count)
                return
            }
            index = skip
            atStart = false
        }
        switch encoding {
        case .utf8, .utf8Signature: try utf8(input, from: index, into: &output, final: final)
        case .latin1: try single(input, from: index, into: &output, table: Self.latin1Table)
        case .latin9: try single(input, from: index, into: &output, table: Self.latin9Table)
        case .cp1252: try single(input, from: index, into: &output, table: Self.cp1252Table)
        case .utf16: try utf16(input, from: index, into: &output, final: final)
        }
    }

    /// How many leading bytes are a BOM (nil: not enough bytes yet to know).
    private mutating func byteOrderMark(_ input: UnsafeRawBufferPointer, final: Bool) throws(InvalidByte) -> Int? {
        switch encoding {
        case .utf16:
            guard input.count >= 2 else { return final ? 0 : nil }
            if input[0] == 0xFF && input[1] == 0xFE { return 2 }
            if input[0] == 0xFE && input[1] == 0xFF {
                bigEndian = true
                return 2
            }
            return 0  // no BOM: little-endian, as Python's utf-16 decoder assumes on this platform
        case .utf8, .utf8Signature:
            let bom: [UInt8] = [0xEF, 0xBB, 0xBF]
            let n = min(3, input.count)
            guard input.prefix(n).elementsEqual(bom.prefix(n)) else { return 0 }
            if n == 3 { return 3 }
            return final ? 0 : nil
        default:
            return 0
        }
    }

    private mutating func utf8(
        _ input: UnsafeRawBufferPointer, from start: Int, into output: inout ByteWriter, final: Bool
    ) throws(InvalidByte) {
        var index = start
        let count = input.count
        _ = output.reserve(count)
        while index < count {
            // ASCII runs are the common case: copy them without per-byte checks beyond the high bit.
            let byte = input[index]
            if byte < 0x80 {
                var end = index + 1
                while end + 8 <= count
                    && input.loadUnaligned(fromByteOffset: end, as: UInt64.self) & 0x8080_8080_8080_8080 == 0
                {
                    end += 8
                }
                while end < count && input[end] < 0x80 { end += 1 }
                output.append(UnsafeRawBufferPointer(rebasing: input[index..<end]))
                index = end
                continue
            }
            let length: Int
            switch byte {
            case 0xC2...0xDF: length = 2
            case 0xE0...0xEF: length = 3
            case 0xF0...0xF4: length = 4
            default:
                try invalid(at: index, byte, into: &output)
                index += 1
                continue
            }
            if index + length > count {
                // Possibly a sequence split across chunks: keep it for the next one, unless it is already wrong.
                if !final && Self.validPrefix(input, from: index, upTo: count) {
                    carry.append(contentsOf: UnsafeRawBufferPointer(rebasing: input[index..<count]))
                    offset += UInt64(count)  // the carried bytes are taken back out when the next chunk joins them
                    return
                }
                try invalid(at: index, byte, into: &output)
                index += 1
                continue
            }
            if Self.validSequence(input, at: index, length: length) {
                output.append(UnsafeRawBufferPointer(rebasing: input[index..<(index + length)]))
                index += length
            } else {
                try invalid(at: index, byte, into: &output)
                index += 1
            }
        }
        offset += UInt64(count)
    }

    static func validSequence(_ input: UnsafeRawBufferPointer, at index: Int, length: Int) -> Bool {
        let first = input[index]
        for k in 1..<length where input[index + k] & 0xC0 != 0x80 { return false }
        let second = input[index + 1]
        switch first {
        case 0xE0: return second >= 0xA0  // no overlong 3-byte forms
        case 0xED: return second < 0xA0  // no surrogates
        case 0xF0: return second >= 0x90  // no overlong 4-byte forms
        case 0xF4: return second < 0x90  // nothing above U+10FFFF
        default: return true
        }
    }

    static func validPrefix(_ input: UnsafeRawBufferPointer, from index: Int, upTo end: Int) -> Bool {
        guard end - index >= 2 else { return true }
        let first = input[index]
        let second = input[index + 1]
        if second & 0xC0 != 0x80 { return false }
        if first == 0xE0 && second < 0xA0 || first == 0xED && second >= 0xA0 { return false }
        if first == 0xF0 && second < 0x90 || first == 0xF4 && second >= 0x90 { return false }
        for k in (index + 2)..<end where input[k] & 0xC0 != 0x80 { return false }
        return true
    }

    private func invalid(at index: Int, _ byte: UInt8, into output: inout ByteWriter) throws(InvalidByte) {
        guard replace else { throw InvalidByte(offset: offset + UInt64(index), byte: byte) }
        output += [0xEF, 0xBF, 0xBD]
    }

    /// Latin-1, ISO-8859-15 and cp1252: one table look-up per non-ASCII byte, ASCII copied eight bytes at a time,
    /// straight into `output`'s raw memory (per-byte appends to an Array cost ~10× more: measured).
    private mutating func single(
        _ input: UnsafeRawBufferPointer, from start: Int, into output: inout ByteWriter, table: [UInt32]
    ) throws(InvalidByte) {
        let count = input.count
        // One byte more than the worst case: a word's last character is stored as four bytes (see below).
        let out = output.reserve((count - start) * 3 + 1)
        var written = 0
        var index = start
        var bytewise = 0  // a word with an undefined byte goes byte by byte, up to here
        defer {
            output.commit(written)
            offset += UInt64(count)
        }
        while index < count {
            if index + 8 <= count && index >= bytewise {
                let word = input.loadUnaligned(fromByteOffset: index, as: UInt64.self)
                if word & 0x8080_8080_8080_8080 == 0 {
                    UnsafeMutableRawPointer(out + written).storeBytes(of: word, as: UInt64.self)
                    written += 8
                    index += 8
                    continue
                }
                // Text with accents: each byte of the word through the table, stored as four bytes (its UTF-8
                // form and, above it, the length, which the next store overwrites) and stepped by its length — no
                // branch per byte, where mixed ASCII and accented letters mispredicted one byte in two.
                let mark = written
                var undefined = false
                table.withUnsafeBufferPointer { table in
                    for k in 0..<8 {
                        let entry = table[Int(input[index + k])]
                        UnsafeMutableRawPointer(out + written).storeBytes(of: entry, as: UInt32.self)
                        written += Int(entry >> 24)
                        undefined = undefined || entry == 0
                    }
                }
                if !undefined {
                    index += 8
                    continue
                }
                written = mark
                bytewise = index + 8
            }
            let byte = input[index]
            if byte < 0x80 {
                out[written] = byte
                written += 1
            } else {
                let entry = table[Int(byte)]
                if entry == 0 {
                    // Undefined in the code page (cp1252's five holes, as Python's codec has them).
                    guard replace else { throw InvalidByte(offset: offset + UInt64(index), byte: byte) }
                    (out[written], out[written + 1], out[written + 2]) = (0xEF, 0xBF, 0xBD)
                    written += 3
                } else {
                    let length = Int(entry >> 24)
                    for k in 0..<length { out[written + k] = UInt8(truncatingIfNeeded: entry >> (8 * UInt32(k))) }
                    written += length
                }
            }
            index += 1
        }
    }

    /// The UTF-8 form of every byte of a single-byte code page: up to three bytes, packed low byte first, with the
    /// length in the top byte; 0 for an undefined byte.
    static func table(_ scalar: (UInt8) -> UInt32?) -> [UInt32] {
        (0...255).map { byte -> UInt32 in
            guard let value = scalar(UInt8(byte)) else { return 0 }
            var writer = ByteWriter(capacity: 4)
            appendScalar(value, to: &writer)
            let bytes = writer.bytes
            return bytes.enumerated().reduce(UInt32(bytes.count) << 24) {
                $0 | UInt32($1.element) << (8 * UInt32($1.offset))
            }
        }
    }

    static let latin1Table = table { UInt32($0) }
    static let latin9Table = table { latin9[UInt16($0)] ?? UInt32($0) }
    static let cp1252Table = table { $0 >= 0x80 && $0 < 0xA0 ? cp1252High[Int($0 - 0x80)] : UInt32($0) }

    private mutating func utf16(
        _ input: UnsafeRawBufferPointer, from start: Int, into output: inout ByteWriter, final: Bool
    ) throws(InvalidByte) {
        var index = start
        let count = input.count
        func unit(_ at: Int) -> UInt32 {
            bigEndian ? UInt32(input[at]) << 8 | UInt32(input[at + 1]) : UInt32(input[at + 1]) << 8 | UInt32(input[at])
        }
        while index + 1 < count {
            let first = unit(index)
            if first >= 0xD800 && first < 0xDC00 {
                guard index + 3 < count else { break }
                let second = unit(index + 2)
                guard second >= 0xDC00 && second < 0xE000 else {
                    try invalid(at: index, input[index], into: &output)
                    index += 2
                    continue
                }
                Self.appendScalar(0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00), to: &output)
                index += 4
            } else if first >= 0xDC00 && first < 0xE000 {
                try invalid(at: index, input[index], into: &output)
                index += 2
            } else {
                Self.appendScalar(first, to: &output)
                index += 2
            }
        }
        if index < count {
            if final {
                try invalid(at: index, input[index], into: &output)
            } else {
                carry.append(contentsOf: UnsafeRawBufferPointer(rebasing: input[index...]))
            }
        }
        offset += UInt64(count)
    }

    static func appendScalar(_ scalar: UInt32, to output: inout ByteWriter) {
        switch scalar {
        case 0..<0x80:
            output.append(UInt8(scalar))
        case 0x80..<0x800:
            output += [UInt8(0xC0 | scalar >> 6), UInt8(0x80 | scalar & 0x3F)]
        case 0x800..<0x10000:
            output += [UInt8(0xE0 | scalar >> 12), UInt8(0x80 | scalar >> 6 & 0x3F), UInt8(0x80 | scalar & 0x3F)]
        default:
            output += [
                UInt8(0xF0 | scalar >> 18), UInt8(0x80 | scalar >> 12 & 0x3F), UInt8(0x80 | scalar >> 6 & 0x3F),
                UInt8(0x80 | scalar & 0x3F),
            ]
        }
    }

    /// cp1252 0x80–0x9F (nil: undefined).
    static let cp1252High: [UInt32?] = [
        0x20AC, nil, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, nil,
        0x017D, nil, nil, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A,
        0x0153, nil, 0x017E, 0x0178,
    ]

    /// Where ISO-8859-15 differs from Latin-1.
    static let latin9: [UInt16: UInt32] = [
        0xA4: 0x20AC, 0xA6: 0x0160, 0xA8: 0x0161, 0xB4: 0x017D, 0xB8: 0x017E, 0xBC: 0x0152, 0xBD: 0x0153, 0xBE: 0x0178,
    ]
}
