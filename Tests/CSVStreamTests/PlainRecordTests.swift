@_spi(Internals) import CSVStream
import Testing

/// The tokenizer's record scan (records that lie whole in a chunk, read where they are, and plain ones offered whole)
/// against its byte loop (fed byte by byte, every record crosses a chunk and takes the loop): the same records, field
/// for field with their notable flags, whether a plain record is taken, handed back, or never offered, at every split
/// of the input into two chunks.
@Suite("CSV tokenizer: record scan and plain records")
struct PlainRecordTests {
    static let inputs = [
        "id,name,city\n1,Ann,Köln\n2,Bob,Berlin\n",
        "a,b\r\n1,2\r\n3,4\r\n",
        "a,b\r1,2\r3,4",
        "a,b\n1,\"x,y\"\n2,plain\n,\n\n3,stray\"quote\n",
        "a;b\n1;2,5\n#comment;x\n4;5#tail\n",
        "a,b\n1,2\n\n\n3,4\n5,6,7\n8\n",
        "a,b\n\\,x,y\n1,2\n",
        // Quoted fields the scan takes (separator, notable byte, empty) and those it gives back (doubled quote, text
        // after the closing quote, a line break or escape inside, an unclosed quote at the end).
        "a;b;c\n\"x;y\";\"1,5\";\"\"\n\"q\"\"q\";\"ab\"cd;z\n\"multi\nline\";\"e\\\"f\";\"g\"\n;;\n\"open;x\n",
        // Wide rows: more fields than the tokenizer's first room for their bounds.
        (0..<150).map { $0 % 7 == 0 ? "\"f;\($0)\"" : "f\($0)" }.joined(separator: ",") + "\n"
            + (0..<150).map { "\($0)" }.joined(separator: ",") + "\r\n" + String(repeating: ",", count: 149) + "\n",
    ]

    enum Taker: CaseIterable { case never, always, alternately }

    /// The records `input` gives fed in `chunks`, each field with its notable flag (`!` after it); plain records are
    /// offered to a taker that splits them on the separator (none notable), or not offered at all.
    static func records(_ chunks: [ArraySlice<UInt8>], separator: UInt8, taker: Taker?) -> [[String]] {
        var tokenizer = CSVTokenizer(
            separator: separator, quote: 34, escape: 92, comment: 35, maxRecordBytes: 1 << 20,
            notable: [44, 34, 10, 13], offersPlainRecords: taker != nil)
        var out: [[String]] = []
        var offers = 0
        func fields(_ tokens: borrowing CSVTokenizer) -> [String] {
            (0..<tokens.fieldCount).map {
                String(decoding: tokens.field($0), as: UTF8.self) + (tokens.fieldIsNotable($0) ? "!" : "")
            }
        }
        for chunk in chunks {
            _ = try? Array(chunk).withUnsafeBytes { raw in
                try tokenizer.feed(
                    raw,
                    plain: { (record, _) throws(CSVError) in
                        offers += 1
                        guard let taker, taker == .always || (taker == .alternately && offers % 2 == 0) else {
                            return false
                        }
                        out.append(
                            record.split(separator: separator, omittingEmptySubsequences: false).map {
                                String(decoding: $0, as: UTF8.self)
                            })
                        return true
                    }
                ) { tokens in out.append(fields(tokens)) }
            }
        }
        try? tokenizer.finish { tokens in out.append(fields(tokens)) }
        return out
    }

    @Test(
        "the same records whether read in place, taken whole, handed back, or read by the byte loop", arguments: inputs)
    func sameRecords(_ input: String) {
        let separator: UInt8 = input.hasPrefix("a;") ? 59 : 44
        let bytes = Array(input.utf8)
        let reference = Self.records(bytes.map { [$0][...] }, separator: separator, taker: nil)
        for split in 0...bytes.count {
            for taker in Taker.allCases {
                #expect(
                    Self.records([bytes[..<split], bytes[split...]], separator: separator, taker: taker) == reference,
                    "split at \(split), taker \(taker)")
            }
        }
    }

    @Test("records the scan must give back, many in a row, then plain ones: the output is the same either way")
    func givenBackThenPlain() {
        // Doubled quotes on every row first (the scan gives up on them after a while), then rows it takes.
        let quoted = (0..<300).map { "\"a\"\"\($0)\",x\n" }.joined()
        let plain = (0..<300).map { "\($0),\"y,\($0)\"\n" }.joined()
        let input = "h1,h2\n" + quoted + plain + quoted
        let expected =
            "h1;h2\n" + (0..<300).map { "\"a\"\"\($0)\";x\n" }.joined()
            + (0..<300).map { "\($0);y,\($0)\n" }.joined() + (0..<300).map { "\"a\"\"\($0)\";x\n" }.joined()
        let options = try! CSVOptions(params: [:], output: ["sep": .string(";")])
        #expect(run([Array(input.utf8)], options).0 == expected)
        #expect(run(Array(input.utf8).map { [$0] }, options).0 == expected)
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
