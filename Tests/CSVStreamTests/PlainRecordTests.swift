import CSVStream
import Testing

/// The tokenizer's plain-record path (rows copied whole) against its byte loop: the same records, field for field,
/// whether the taker takes a plain record or hands it back, at every split of the input into two chunks.
@Suite("CSV tokenizer: plain records")
struct PlainRecordTests {
    static let inputs = [
        "id,name,city\n1,Ann,Köln\n2,Bob,Berlin\n",
        "a,b\r\n1,2\r\n3,4\r\n",
        "a,b\r1,2\r3,4",
        "a,b\n1,\"x,y\"\n2,plain\n,\n\n3,stray\"quote\n",
        "a;b\n1;2,5\n#comment;x\n4;5#tail\n",
        "a,b\n1,2\n\n\n3,4\n5,6,7\n8\n",
        "a,b\n\\,x,y\n1,2\n",
    ]

    enum Taker: CaseIterable { case never, always, alternately }

    /// The records `input` gives in two chunks split at `split`: through the byte loop only, or with plain records
    /// offered to a taker that splits them on the separator.
    static func records(_ input: String, split: Int, separator: UInt8, taker: Taker?) -> [[String]] {
        let bytes = Array(input.utf8)
        var tokenizer = CSVTokenizer(
            separator: separator, quote: 34, escape: 92, comment: 35, maxRecordBytes: 1 << 20,
            notable: [44, 34, 10, 13], offersPlainRecords: taker != nil)
        var out: [[String]] = []
        var offers = 0
        for chunk in [bytes[..<split], bytes[split...]] {
            _ = try? Array(chunk).withUnsafeBytes { raw in
                try tokenizer.feed(raw, plain: { (record, _) throws(CSVError) in
                    offers += 1
                    guard let taker, taker == .always || (taker == .alternately && offers % 2 == 0) else { return false }
                    out.append(record.split(separator: separator, omittingEmptySubsequences: false).map {
                        String(decoding: $0, as: UTF8.self)
                    })
                    return true
                }) { tokens in
                    out.append((0..<tokens.fieldCount).map { String(decoding: tokens.field($0), as: UTF8.self) })
                }
            }
        }
        try? tokenizer.finish { tokens in
            out.append((0..<tokens.fieldCount).map { String(decoding: tokens.field($0), as: UTF8.self) })
        }
        return out
    }

    @Test("the same records whether plain ones are taken, handed back, or never offered", arguments: inputs)
    func sameRecords(_ input: String) {
        let separator: UInt8 = input.hasPrefix("a;") ? 59 : 44
        let reference = Self.records(input, split: 0, separator: separator, taker: nil)
        for split in 0...input.utf8.count {
            for taker in Taker.allCases {
                #expect(Self.records(input, split: split, separator: separator, taker: taker) == reference,
                        "split at \(split), taker \(taker)")
            }
        }
    }

    @Test("rows without quotes go the fast way and come out as the byte loop writes them")
    func transformer() throws {
        let plain = "id,name,city\n1,Ann,Köln\n2,Bob,Berlin\n3,,x\n"
        let options = try CSVOptions(params: [:], output: ["sep": .string(";")])
        let transformer = CSVTransformer(options: options)
        var out: [UInt8] = []
        try Array(plain.utf8).withUnsafeBytes { try transformer.push($0, into: &out) }
        try transformer.finish(into: &out)
        #expect(String(decoding: out, as: UTF8.self) == "id;name;city\n1;Ann;Köln\n2;Bob;Berlin\n3;;x\n")
        #expect(transformer.counters.rowsIn == 3 && transformer.counters.rowsOut == 3)
    }
}
