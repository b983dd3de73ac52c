@_spi(Internals) import Compression
import Testing

@Suite("gzip header and trailer, split at every byte")
struct GzipParsingTests {
    /// A header with the flags' optional fields, in RFC 1952's order.
    static func header(flags: UInt8, extra: [UInt8] = [], name: String = "", comment: String = "") -> [UInt8] {
        var bytes: [UInt8] = [0x1f, 0x8b, 8, flags, 1, 2, 3, 4, 0, 3]
        if flags & 4 != 0 { bytes += [UInt8(extra.count & 0xff), UInt8(extra.count >> 8)] + extra }
        if flags & 8 != 0 { bytes += Array(name.utf8) + [0] }
        if flags & 16 != 0 { bytes += Array(comment.utf8) + [0] }
        if flags & 2 != 0 { bytes += [0xaa, 0xbb] }
        return bytes
    }

    static let headers: [(String, [UInt8])] = [
        ("plain", header(flags: 0)),
        ("name", header(flags: 8, name: "data.csv")),
        ("extra", header(flags: 4, extra: [1, 2, 3, 4, 5])),
        ("empty extra", header(flags: 4)),
        ("comment", header(flags: 16, comment: "made by hand")),
        ("header CRC", header(flags: 2)),
        ("all", header(flags: 2 | 4 | 8 | 16, extra: [9, 9], name: "x", comment: "y")),
    ]

    @Test("each header ends exactly where it ends, however it is split", arguments: headers)
    func headerSplits(_ name: String, _ bytes: [UInt8]) throws {
        let input = bytes + [0xde, 0xad]  // the deflate data's first bytes: never taken
        for splits in everySplit(input.count) {
            var parser = GzipHeaderParser()
            var taken = 0
            var start = 0
            for end in splits + [input.count] where end >= start {
                if !parser.isComplete {
                    taken += try input[start..<end].withUnsafeBytes { try parser.feed($0) }
                }
                start = end
            }
            #expect(parser.isComplete, "\(name) split at \(splits)")
            #expect(taken == bytes.count, "\(name) split at \(splits)")
        }
    }

    @Test(
        "what is not a gzip header is refused at once",
        arguments: [
            ([0x50, 0x4b, 3, 4], "not gzip"), ([0x1f, 0x8c], "not gzip"), ([0x1f, 0x8b, 7], "method 7"),
            ([0x1f, 0x8b, 8, 0x20], "reserved flags"),
        ] as [([UInt8], String)])
    func refused(_ bytes: [UInt8], _ words: String) {
        var parser = GzipHeaderParser()
        #expect {
            _ = try bytes.withUnsafeBytes { try parser.feed($0) }
        } throws: { ($0 as? CompressionError)?.message.contains(words) == true }
    }

    @Test("a file name without its terminating zero is not read to the end of the body")
    func endlessName() {
        var parser = GzipHeaderParser()
        let bytes = Self.header(flags: 8).dropLast() + [UInt8](repeating: 0x61, count: 70_000)
        #expect(throws: CompressionError.self) { _ = try Array(bytes).withUnsafeBytes { try parser.feed($0) } }
    }

    @Test("the trailer is read whole however it is split, and checked against what was decoded")
    func trailer() throws {
        let bytes: [UInt8] = [0x78, 0x56, 0x34, 0x12, 5, 0, 0, 0, 0xee]
        for split in 0...8 {
            var trailer = GzipTrailer()
            var taken = bytes[..<split].withUnsafeBytes { trailer.feed($0) }
            taken += bytes[split...].withUnsafeBytes { trailer.feed($0) }
            #expect(taken == 8 && trailer.isComplete)
            #expect(trailer.crc == 0x1234_5678 && trailer.size == 5)
            try trailer.check(crc: 0x1234_5678, size: 5)
            #expect { try trailer.check(crc: 1, size: 5) } throws: { ($0 as? CompressionError)?.kind == .truncated }
        }
    }
}
