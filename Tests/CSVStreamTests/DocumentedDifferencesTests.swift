@_spi(Internals) import CSVStream
import Testing

/// The README's "Where we differ from pandas, on purpose", each checked both ways: our output is as the README says,
/// and pandas 3.1 really writes something else. When pandas changes, or we do, the list must change with it.
@Suite("CSV: the documented differences from pandas")
struct DocumentedDifferencesTests {
    struct Difference: Sendable, CustomTestStringConvertible {
        let what: String
        let input: String
        let params: [String: CSVParam]
        let python: String
        /// Whether pandas runs as the corpus runs it (`dtype=str, keep_default_na=False`) or with its defaults.
        let asText: Bool
        let ours: String
        let pandas: String
        var testDescription: String { what }
    }

    static let differences: [Difference] = [
        Difference(
            what: "no NA handling", input: "a,b,c,d\nNA,NULL,n/a,None\n,x,y,z\n", params: [:], python: "",
            asText: false, ours: "a,b,c,d\nNA,NULL,n/a,None\n,x,y,z\n", pandas: "a,b,c,d\n,,,\n,x,y,z\n"),
        Difference(
            what: "no type inference", input: "a,b\n007,1.50\n", params: [:], python: "", asText: false,
            ours: "a,b\n007,1.50\n", pandas: "a,b\n7,1.5\n"),
        Difference(
            what: "decimal/thousands rewritten as text", input: "a\n1.234,5\n",
            params: ["sep": .string(";"), "decimal": .string(","), "thousands": .string(".")],
            python: "sep=';', decimal=',', thousands='.'", asText: true,
            ours: "a\n1234.5\n", pandas: "a\n\"1.234,5\"\n"),
        Difference(
            what: "dates per value, not per column", input: "d\n31.01.2024\nnope\n",
            params: ["parse_dates": .array([.string("d")]), "dayfirst": .bool(true)],
            python: "parse_dates=['d'], dayfirst=True", asText: true,
            ours: "d\n2024-01-31\nnope\n", pandas: "d\n31.01.2024\nnope\n"),
        Difference(
            what: "dates in mixed shapes each read", input: "d\n2024-01-02\n2024-01-03T10:00\n",
            params: ["parse_dates": .array([.string("d")])], python: "parse_dates=['d']", asText: true,
            ours: "d\n2024-01-02\n2024-01-03 10:00:00\n", pandas: "d\n2024-01-02\n2024-01-03T10:00\n"),
        Difference(
            what: "year-first dates under dayfirst", input: "d\n2024-01-02\n",
            params: ["parse_dates": .array([.string("d")]), "dayfirst": .bool(true)],
            python: "parse_dates=['d'], dayfirst=True", asText: true,
            ours: "d\n2024-01-02\n", pandas: "d\n2024-02-01\n"),
        Difference(
            what: "quarters kept as text", input: "d\n2024Q1\n", params: ["parse_dates": .array([.string("d")])],
            python: "parse_dates=['d']", asText: true, ours: "d\n2024Q1\n", pandas: "d\n2024-01-01\n"),
        Difference(
            what: "months kept as text", input: "d\n1949-02\n", params: ["parse_dates": .array([.string("d")])],
            python: "parse_dates=['d']", asText: true, ours: "d\n1949-02\n", pandas: "d\n1949-02-01\n"),
        Difference(
            what: "empty header names kept", input: ",b\n1,2\n", params: [:], python: "", asText: true,
            ours: ",b\n1,2\n", pandas: "Unnamed: 0,b\n1,2\n"),
        Difference(
            what: "header null without names: no header line", input: "1,2\n3,4\n", params: ["header": .null],
            python: "header=None", asText: true, ours: "1,2\n3,4\n", pandas: "0,1\n1,2\n3,4\n"),
        Difference(
            what: "skipfooter counts records, not trailing blank lines", input: "a\n1\n2\n\n",
            params: ["skipfooter": .integer(1)], python: "skipfooter=1, engine='python'", asText: true,
            ours: "a\n1\n", pandas: "a\n1\n2\n"),
    ]

    @Test("ours as documented, pandas as documented", arguments: differences)
    func holds(_ difference: Difference) throws {
        #expect(transform(difference.input, difference.params) == difference.ours)
        #expect(try pandasOutput(difference.input, difference.python, asText: difference.asText) == difference.pandas)
    }
}
