@_spi(Internals) import Compression
import Testing

@Suite("ZIP local headers, split at every byte")
struct ZipParsingTests {
    static func local(
        name: String, method: UInt16 = 8, flags: UInt16 = 0, crc: UInt32 = 0xcafe_babe, compressed: UInt32 = 7,
        size: UInt32 = 9, extra: [UInt8] = []
    ) -> [UInt8] {
        func le16(_ value: UInt16) -> [UInt8] { [UInt8(value & 0xff), UInt8(value >> 8)] }
        func le32(_ value: UInt32) -> [UInt8] { le16(UInt16(value & 0xffff)) + le16(UInt16(value >> 16)) }
        return [0x50, 0x4b, 3, 4] + le16(20) + le16(flags) + le16(method) + le16(0) + le16(0) + le32(crc)
            + le32(compressed) + le32(size) + le16(UInt16(name.utf8.count)) + le16(UInt16(extra.count))
            + Array(name.utf8) + extra
    }

    static func parse(_ input: [UInt8], splits: [Int]) throws -> (Int, ZipLocalHeaderParser.Record?) {
        var parser = ZipLocalHeaderParser()
        var taken = 0
        var start = 0
        for end in splits + [input.count] where end >= start {
            let (used, record) = try input[start..<end].withUnsafeBytes { try parser.feed($0) }
            taken += used
            if let record { return (taken, record) }
            start = end
        }
        return (taken, nil)
    }

    @Test("a member's header, with its name and extra field, however it is split")
    func member() throws {
        let header = Self.local(name: "dir/data.csv", extra: [0x55, 0x54, 1, 0, 7])
        let input = header + [1, 2, 3]
        for splits in everySplit(input.count) {
            let (taken, record) = try Self.parse(input, splits: splits)
            #expect(taken == header.count, "split at \(splits)")
            guard case .member(let entry)? = record else {
                Issue.record("no member at \(splits)")
                continue
            }
            #expect(entry.name == "dir/data.csv" && entry.method == 8 && entry.crc == 0xcafe_babe)
            #expect(entry.compressedSize == 7 && entry.size == 9 && !entry.isZip64 && entry.refusal == nil)
        }
    }

    @Test("the central directory and an empty archive's end record end the members")
    func end() throws {
        for signature: [UInt8] in [[0x50, 0x4b, 1, 2], [0x50, 0x4b, 5, 6]] {
            for splits in everySplit(6) {
                let (taken, record) = try Self.parse(signature + [0, 0], splits: splits)
                #expect(taken == 4 && record == .end)
            }
        }
    }

    @Test(
        "members we cannot stream are named with the reason",
        arguments: [
            (local(name: "a", flags: 1), "encrypted"),
            (local(name: "a", compressed: 0xffff_ffff), "ZIP64"),
            (local(name: "a", extra: [1, 0, 0, 0]), "ZIP64"),
            (local(name: "a", method: 0, flags: 8), "data descriptor"),
            (local(name: "a", method: 12), "bzip2"),
        ] as [([UInt8], String)])
    func refusals(_ header: [UInt8], _ words: String) throws {
        let (_, record) = try Self.parse(header, splits: [])
        guard case .member(let entry)? = record else {
            Issue.record("no member")
            return
        }
        #expect(entry.refusal?.contains(words) == true, "\(entry.refusal ?? "nil")")
    }

    @Test("a stored member whose sizes are known, and a deflated one with a data descriptor, are streamed")
    func accepted() throws {
        for header in [Self.local(name: "a", method: 0), Self.local(name: "a", flags: 8)] {
            let (_, record) = try Self.parse(header, splits: [])
            guard case .member(let entry)? = record else {
                Issue.record("no member")
                return
            }
            #expect(entry.refusal == nil)
        }
    }

    @Test("bytes that are no ZIP record are refused")
    func garbage() {
        #expect(throws: CompressionError.self) { try Self.parse(Array("a,b\n1,2\n".utf8), splits: []) }
    }
}
