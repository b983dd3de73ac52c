@_spi(Internals) import CSVStream
import Foundation
import Testing

/// A small seeded generator (SplitMix64), so that a failing case can be replayed from its seed.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Python's csv module as the oracle: it writes random tables in random dialects and encodings; we transform them;
/// it reads both our input and our output back, and the rows must be equal.
@Suite("CSV against Python's csv module")
struct PythonDifferentialTests {
    static let seed: UInt64 = 20_261_126

    @Test("random tables: quotes, separators, line breaks, non-ASCII, BOMs — rows survive the round trip")
    func differential() throws {
        var random = SeededGenerator(state: Self.seed)
        let pieces = [
            "a", "B", "7", "007", "1.50", " ", ",", ";", "\t", "|", "\"", "\n", "\r\n", "é", "€", "😀", "x y", "",
        ]
        let dialects: [(sep: String, encoding: String)] = [
            (",", "utf-8"), (";", "latin-1"), ("\t", "cp1252"), ("|", "utf-16"), (",", "utf-8-sig"), (";", "utf-8"),
        ]
        var cases: [[String: Any]] = []
        for index in 0..<300 {
            let dialect = dialects[Int.random(in: 0..<dialects.count, using: &random)]
            let columns = Int.random(in: 1...5, using: &random)
            let rows = Int.random(in: 1...8, using: &random)
            var table: [[String]] = []
            for _ in 0..<rows {
                table.append(
                    (0..<columns).map { _ in
                        (0..<Int.random(in: 0...4, using: &random)).map { _ in
                            var piece = pieces[Int.random(in: 0..<pieces.count, using: &random)]
                            if dialect.encoding == "latin-1" && (piece == "€" || piece == "😀") { piece = "e" }
                            if dialect.encoding == "cp1252" && piece == "😀" { piece = "f" }
                            return piece
                        }.joined()
                    })
            }
            // A row of one empty field next to others is fine; a table of nothing but that is not a CSV worth testing.
            cases.append([
                "index": index, "sep": dialect.sep, "encoding": dialect.encoding, "rows": table,
                "terminator": Bool.random(using: &random) ? "\r\n" : "\n", "quoteAll": Bool.random(using: &random),
            ])
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("w2f-csv-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try JSONSerialization.data(withJSONObject: cases).write(to: directory.appendingPathComponent("cases.json"))

        try python(
            """
            import csv, json, sys
            d = sys.argv[1]
            for c in json.load(open(d + "/cases.json")):
                with open(f"{d}/in{c['index']}.csv", "w", newline="", encoding=c["encoding"]) as f:
                    w = csv.writer(f, delimiter=c["sep"], lineterminator=c["terminator"],
                                   quoting=csv.QUOTE_ALL if c["quoteAll"] else csv.QUOTE_MINIMAL)
                    w.writerows(c["rows"])
            """, directory.path)

        for item in cases {
            let index = item["index"] as! Int
            let input = try Data(contentsOf: directory.appendingPathComponent("in\(index).csv"))
            let options = try CSVOptions(params: [
                "sep": .string(item["sep"] as! String), "encoding": .string(item["encoding"] as! String),
            ])
            let transformer = CSVTransformer(options: options)
            var output: [UInt8] = []
            // Feed in uneven chunks, as a socket would.
            var offset = 0
            var chunk = 1
            let bytes = [UInt8](input)
            while offset < bytes.count {
                let end = min(bytes.count, offset + chunk)
                try Array(bytes[offset..<end]).withUnsafeBytes { try transformer.push($0, into: &output) }
                offset = end
                chunk = chunk * 3 % 97 + 1
            }
            try transformer.finish(into: &output)
            try Data(output).write(to: directory.appendingPathComponent("out\(index).csv"))
        }

        let report = try python(
            """
            import csv, json, sys
            d = sys.argv[1]
            bad = []
            for c in json.load(open(d + "/cases.json")):
                i = c["index"]
                with open(f"{d}/in{i}.csv", newline="", encoding=c["encoding"]) as f:
                    expected = list(csv.reader(f, delimiter=c["sep"]))
                with open(f"{d}/out{i}.csv", newline="", encoding="utf-8") as f:
                    got = list(csv.reader(f))
                if got != expected:
                    bad.append(f"case {i} ({c['sep']!r}, {c['encoding']}): expected {expected!r} got {got!r}")
            print(len(bad))
            for line in bad[:5]:
                print(line)
            """, directory.path)
        #expect(report.hasPrefix("0\n"), "seed \(Self.seed): \(report)")
    }

    @discardableResult
    func python(_ script: String, _ argument: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, argument]
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let output = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let error = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw PythonFailure(description: "python3 failed (\(process.terminationStatus)): \(error)")
        }
        return output
    }
}

struct PythonFailure: Error, CustomStringConvertible {
    let description: String
}
