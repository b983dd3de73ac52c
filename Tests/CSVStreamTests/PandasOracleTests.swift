@_spi(Internals) import CSVStream
import Foundation
import Testing

/// pandas as the oracle for what each key selects: `read_csv(..., dtype=str, keep_default_na=False)` then
/// `to_csv(index=False)` must give the bytes we give (values are text on both sides, so nothing is re-typed).
@Suite("CSV against pandas read_csv")
struct PandasOracleTests {
    struct Case: Sendable {
        let input: String
        let params: [String: CSVParam]
        /// The same keys as Python literals for read_csv.
        let python: String
    }

    static let cases: [Case] = [
        Case(input: "a,b,c\n1,2,3\n4,5,6\n", params: [:], python: ""),
        Case(
            input: "x\ny\na;b\n1;2\n", params: ["skiprows": .integer(2), "sep": .string(";")],
            python: "skiprows=2, sep=';'"),
        Case(input: "t\na,b\n1,2\n3,4\n", params: ["header": .integer(1)], python: "header=1"),
        Case(input: "1,2\n3,4\n", params: ["names": .array([.string("p"), .string("q")])], python: "names=['p','q']"),
        Case(
            input: "a,b\n1,2\n", params: ["names": .array([.string("p"), .string("q")]), "header": .integer(0)],
            python: "names=['p','q'], header=0"),
        Case(input: "a\n1\n2\n3\n4\n", params: ["nrows": .integer(2)], python: "nrows=2"),
        Case(
            input: "a,b,c\n1,2,3\n", params: ["usecols": .array([.string("c"), .string("a")])],
            python: "usecols=['c','a']"),
        Case(
            input: "a,b,c\n1,2,3\n", params: ["usecols": .array([.integer(2), .integer(1)])], python: "usecols=[2,1]"),
        Case(input: "a\n1\n2\n3\nsum\n", params: ["skipfooter": .integer(1)], python: "skipfooter=1, engine='python'"),
        Case(input: "a,b\n# c\n1,2\n\n3,4\n", params: ["comment": .string("#")], python: "comment='#'"),
        // (A first data row one field longer than the header makes pandas take that column as the index: a quirk
        // that silently drops data, not copied here.)
        Case(input: "a,b\n1,2\n3,4,5\n6,7\n", params: ["on_bad_lines": .string("skip")], python: "on_bad_lines='skip'"),
        Case(
            input: "a|b\n'x|y'|2\n", params: ["sep": .string("|"), "quotechar": .string("'")],
            python: "sep='|', quotechar=\"'\""),
        Case(input: "a,b\n\"q\"\"uote\",\"multi\nline\"\n", params: [:], python: ""),
        Case(input: "a,b,c\n1\n", params: [:], python: ""),
        Case(input: "a\n\n1\n\n", params: [:], python: ""),
        Case(
            input: "d,n\n2024-01-31,1\n2024-02-29,2\n", params: ["parse_dates": .array([.string("d")])],
            python: "parse_dates=['d']"),
        Case(
            input: "d,n\n2024-01-31 10:11:12,1\n2024-02-29 00:00:01,2\n",
            params: ["parse_dates": .array([.integer(0)])], python: "parse_dates=[0]"),
        Case(input: "a,b\n007,1.50\n,x\n", params: [:], python: ""),
        // Issue #13: names labelling the selected columns, parse_dates among them, longer rows under usecols, a
        // per-column text dtype (pandas is given none: dtype=str is already its reading), date shapes of real files.
        Case(
            input: "1,2,3,4\n5,6,7,8\n",
            params: [
                "header": .null, "usecols": .array([.integer(0), .integer(3)]),
                "names": .array([.string("a"), .string("b")]),
            ], python: "header=None, usecols=[0,3], names=['a','b']"),
        Case(
            input: "team,x,date,y\nA,1,2024-01-02,3\nB,2,2024-02-03,4\n",
            params: ["usecols": .array([.integer(2), .integer(0)]), "parse_dates": .array([.integer(1)])],
            python: "usecols=[2,0], parse_dates=[1]"),
        Case(
            input: "a,b,c\n1,2,3\n4,5,6,7\n8,9\n", params: ["usecols": .array([.integer(0), .integer(2)])],
            python: "usecols=[0,2]"),
        Case(input: "a,b\n007,1\n", params: ["dtype": .object(["a": .string("str")])], python: ""),
        Case(
            input: "d\n17-08-1984\n05-04-1988\n",
            params: ["parse_dates": .array([.string("d")]), "dayfirst": .bool(true)],
            python: "parse_dates=['d'], dayfirst=True"),
        Case(
            input: "d\n19580329\n20240229\n", params: ["parse_dates": .array([.string("d")])],
            python: "parse_dates=['d']"),
    ]

    @Test("each key selects the rows and columns pandas selects", arguments: 0..<cases.count)
    func matchesPandas(_ index: Int) throws {
        let item = Self.cases[index]
        let ours = run([Array(item.input.utf8)], try CSVOptions(params: item.params)).0
        let theirs = try pandasOutput(item.input, item.python)
        #expect(ours == theirs, "case \(index): \(item.python)")
    }
}

/// What pandas writes for `input` read with `keywords` (Python source, e.g. `usecols=[0]`): `read_csv(...,
/// dtype=str, keep_default_na=False)` then `to_csv(index=False)` — or pandas' defaults when `asText` is false. Fails
/// the test when pandas is missing.
func pandasOutput(_ input: String, _ keywords: String, asText: Bool = true) throws -> String {
    let text = asText ? "dtype=str, keep_default_na=False, " : ""
    let script = """
        import io, sys, warnings
        warnings.simplefilter("ignore")
        import pandas as pd
        data = sys.stdin.buffer.read()
        df = pd.read_csv(io.BytesIO(data), \(text)\(keywords))
        sys.stdout.write(df.to_csv(index=False, lineterminator="\\n"))
        """
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", "-c", script]
    let stdin = Pipe()
    let stdout = Pipe()
    let stderr = Pipe()
    process.standardInput = stdin
    process.standardOutput = stdout
    process.standardError = stderr
    try process.run()
    stdin.fileHandleForWriting.write(Data(input.utf8))
    try stdin.fileHandleForWriting.close()
    let theirs = String(decoding: stdout.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    let problems = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    #expect(
        process.terminationStatus == 0,
        "pandas is needed for this test (scripts/install-deps.sh installs it): \(problems)")
    return theirs
}
