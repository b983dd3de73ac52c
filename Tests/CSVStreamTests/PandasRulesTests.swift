@_spi(Internals) import CSVStream
import Testing

/// pandas' rules that real configs met and we had wrong (issue #13); each expected output is what pandas 3.1 writes
/// for the same keys (`read_csv(..., dtype=str, keep_default_na=False)` then `to_csv(index=False)`), checked at
/// every split of the input.
@Suite("CSV: pandas' rules for usecols, names, parse_dates and dtype")
struct PandasRulesTests {
    static let fourColumns = "1,2,3,4\n5,6,7,8\n"

    @Test("header null + usecols + as many names as selected columns: the names label the selected columns")
    func namesLabelSelected() {
        let names: CSVParam = .array([.string("a"), .string("b")])
        #expect(
            transform(
                Self.fourColumns, ["header": .null, "usecols": .array([.integer(0), .integer(3)]), "names": names])
                == "a,b\n1,4\n5,8\n")
        // The order of usecols does not matter: columns stay in the file's order, as do their labels.
        #expect(
            transform(
                Self.fourColumns, ["header": .null, "usecols": .array([.integer(3), .integer(0)]), "names": names])
                == "a,b\n1,4\n5,8\n")
        // A header row is replaced the same way.
        #expect(
            transform(
                "h1,h2,h3,h4\n" + Self.fourColumns,
                ["header": .integer(0), "usecols": .array([.integer(0), .integer(3)]), "names": names])
                == "a,b\n1,4\n5,8\n")
        // The issue's case: three names for three of 65 columns.
        let wide = (0..<65).map { "v\($0)" }.joined(separator: ",") + "\n"
        #expect(
            transform(
                wide + wide,
                [
                    "header": .null, "usecols": .array([.integer(0), .integer(63), .integer(64)]),
                    "names": .array([.string("a"), .string("b"), .string("c")]),
                ]) == "a,b,c\nv0,v63,v64\nv0,v63,v64\n")
        // An index past the file's columns is still an error, counted in the file.
        #expect(
            transform(
                Self.fourColumns, ["header": .null, "usecols": .array([.integer(0), .integer(4)]), "names": names])
                == "error: usecols: column 4 does not exist (the file has 4 columns)")
    }

    @Test("names covering every file column: usecols may index or name them")
    func namesLabelFile() {
        let names: CSVParam = .array([.string("a"), .string("b"), .string("c"), .string("d")])
        #expect(
            transform(
                Self.fourColumns, ["header": .null, "usecols": .array([.integer(0), .integer(3)]), "names": names])
                == "a,d\n1,4\n5,8\n")
        #expect(
            transform(
                Self.fourColumns, ["header": .null, "usecols": .array([.string("a"), .string("d")]), "names": names])
                == "a,d\n1,4\n5,8\n")
    }

    @Test("parse_dates indices count among the selected columns, in file order; names must be selected")
    func datesAmongSelected() {
        let input = "team,x,date,y\nA,1,02/01/2024,3\nB,2,03/02/2024,4\n"
        let expected = "team,date\nA,2024-01-02\nB,2024-02-03\n"
        // The date column by its index among the selected (whichever order usecols gives them) or by its name.
        let selections: [(usecols: [CSVParam], date: CSVParam)] = [
            ([.integer(0), .integer(2)], .integer(1)), ([.integer(2), .integer(0)], .integer(1)),
            ([.integer(0), .integer(2)], .string("date")),
        ]
        for (usecols, date) in selections {
            #expect(
                transform(input, ["usecols": .array(usecols), "parse_dates": .array([date]), "dayfirst": .bool(true)])
                    == expected, "usecols \(usecols), parse_dates [\(date)]")
        }
        #expect(
            transform(
                input,
                [
                    "usecols": .array([.string("date"), .string("y")]), "parse_dates": .array([.integer(0)]),
                    "dayfirst": .bool(true),
                ])
                == "date,y\n2024-01-02,3\n2024-02-03,4\n")
        // With names labelling the selected columns, parse_dates names use those labels.
        #expect(
            transform(
                input,
                [
                    "header": .integer(0), "usecols": .array([.integer(0), .integer(2)]),
                    "names": .array([.string("t"), .string("d")]), "parse_dates": .array([.string("d")]),
                    "dayfirst": .bool(true),
                ])
                == "t,d\nA,2024-01-02\nB,2024-02-03\n")
        #expect(
            transform(input, ["usecols": .array([.integer(0), .integer(2)]), "parse_dates": .array([.integer(2)])])
                == "error: parse_dates: column 2 does not exist (usecols selects 2 columns, "
                + "and parse_dates counts among them, as pandas does)"
        )
        #expect(
            transform(
                input, ["usecols": .array([.integer(0), .integer(1)]), "parse_dates": .array([.string("date")])])
                == "error: parse_dates: no column named 'date' among the columns usecols selects (team, x)")
        // Without usecols, indices count in the file as before.
        #expect(
            transform(input, ["parse_dates": .array([.integer(2)]), "dayfirst": .bool(true)])
                == "team,x,date,y\nA,1,2024-01-02,3\nB,2,2024-02-03,4\n")
    }

    @Test(
        """
        dates pandas reads that real files hold: DD-MM-YYYY (day first when asked or when the month cannot be), \
        YYYYMMDD
        """
    )
    func dateShapes() {
        let dates: [String: CSVParam] = ["parse_dates": .array([.string("d")])]
        var dayFirst = dates
        dayFirst["dayfirst"] = .bool(true)
        #expect(transform("d\n17-08-1984\n05-04-1988\n", dayFirst) == "d\n1984-08-17\n1988-04-05\n")
        #expect(transform("d\n17-08-1984\n05-04-1988\n", dates) == "d\n1984-08-17\n1988-05-04\n")
        #expect(transform("d\n5-4-1988 10:30\n", dayFirst) == "d\n1988-04-05 10:30:00\n")
        #expect(transform("d\n31-Jan-2024\n", dates) == "d\n2024-01-31\n")
        #expect(
            transform("d\n19580329\n20240229 10:15\n20230229\n123\n", dates)
                == "d\n1958-03-29\n2024-02-29 10:15:00\n20230229\n123\n")
    }

    @Test("with usecols, a row longer than the header is not a bad line: its extra fields are ignored")
    func usecolsIgnoresExtraFields() {
        let input = "a,b,c\n1,2,3\n4,5,6,7\n8,9\n"
        #expect(transform(input, ["usecols": .array([.integer(0), .integer(2)])]) == "a,c\n1,3\n4,6\n8,\n")
        #expect(transform(input, ["usecols": .array([.string("a"), .string("c")])]) == "a,c\n1,3\n4,6\n8,\n")
        #expect(
            transform(
                "1,2,3\n4,5,6,7\n",
                [
                    "header": .null, "usecols": .array([.integer(0), .integer(2)]),
                    "names": .array([.string("x"), .string("y")]),
                ]) == "x,y\n1,3\n4,6\n")
        let (_, counters) = run([Array(input.utf8)], options(["usecols": .array([.integer(0), .integer(2)])]))
        #expect(counters.badRowsSkipped == 0 && counters.rowsIn == 3 && counters.rowsOut == 3)
        // Without usecols it stays a bad line, as in pandas.
        #expect(transform(input, [:]).hasPrefix("error: expected 3 fields, saw 4 at row 3"))
    }

    @Test("dtype: text for all or per column is accepted; any other type is refused, naming the column")
    func dtype() throws {
        let perColumn = try CSVOptions(params: [
            "dtype": .object(["a": .string("str"), "b": .string("object"), "c": .string("string")])
        ])
        #expect(
            perColumn.textDtype == "{\"a\": \"str\", \"b\": \"object\", \"c\": \"string\"}"
                && perColumn.ignoredKeys.isEmpty)
        #expect(try CSVOptions(params: ["dtype": .string("object")]).textDtype == "object")
        // A list of text types is not pandas', but was accepted before this round: it still is.
        #expect(try CSVOptions(params: ["dtype": .array([.string("str")])]).textDtype == "[\"str\"]")
        do {
            _ = try CSVOptions(params: [
                "dtype": .object(["a": .string("str"), "n": .string("int64"), "f": .string("float")])
            ])
            Issue.record("accepted dtype int64")
        } catch {
            #expect(
                error.problems == [
                    "dtype for column 'f' is \"float\": only str, object or string is supported: "
                        + "values are copied as text, never re-typed",
                    "dtype for column 'n' is \"int64\": only str, object or string is supported: "
                        + "values are copied as text, never re-typed",
                ])
        }
        #expect(throws: CSVConfigError.self) { try CSVOptions(params: ["dtype": .string("int64")]) }
        #expect(transform("a,b\n007,1\n", ["dtype": .object(["a": .string("str")])]) == "a,b\n007,1\n")
    }

    @Test("usecols mixing names and indices is refused, as pandas refuses it")
    func mixedUsecols() {
        #expect(throws: CSVConfigError.self) {
            try CSVOptions(params: ["usecols": .array([.integer(0), .string("b")])])
        }
    }
}

@Suite("CSV counters and warnings")
struct CSVCounterTests {
    @Test("rows in and out, bad rows, replaced characters, rewritten numbers, unparsed dates per column")
    func counters() {
        let input: [UInt8] =
            Array("d;n;t\n# c\n\n01.02.2024;1.234,5;x\nnope;7;y;extra\n;2,5;".utf8) + [0xFF]
            + Array("\nlater;3;z\n".utf8)
        let params: [String: CSVParam] = [
            "sep": .string(";"), "comment": .string("#"), "parse_dates": .array([.string("d")]),
            "dayfirst": .bool(true),
            "decimal": .string(","), "thousands": .string("."), "encoding_errors": .string("replace"),
            "on_bad_lines": .string("skip"),
        ]
        let text = transform(input, options(params))
        #expect(text == "d,n,t\n2024-02-01,1234.5,x\n,2.5,\u{FFFD}\nlater,3,z\n")
        let (_, counters) = run([input], options(params))
        #expect(counters.rowsIn == 4 && counters.rowsOut == 3 && counters.badRowsSkipped == 1)
        #expect(counters.valuesReplaced == 1 && counters.thousandsDecimalRewritten == 2)
        #expect(counters.datesUnparsed == 1 && counters.datesUnparsedByColumn == [.init(column: "d", count: 1)])
        // The same at every split (the U+FFFD count above all: it is counted on the output).
        for split in 0...input.count {
            let (_, parts) = run([Array(input[..<split]), Array(input[split...])], options(params))
            #expect(parts == counters, "split at \(split)")
        }
    }

    @Test("a parse_dates column whose values never parse is a warning naming it and an example")
    func neverParsedColumn() {
        let rows = (0..<1500).map { "Team \($0),2024-01-0\($0 % 9 + 1)" }.joined(separator: "\n")
        let transformer = CSVTransformer(
            options: options(["header": .null, "parse_dates": .array([.integer(0), .integer(1)])]))
        var output: [UInt8] = []
        let head = Array(rows.utf8.prefix(30_000))
        head.withUnsafeBytes { try? transformer.push($0, into: &output) }
        // Said as soon as the first 1,000 values are in, before the body ends.
        #expect(
            transformer.warnings == [
                "parse_dates column '0': none of the first 1000 non-empty values is a date (e.g. \"Team 0\"); "
                    + "values are kept as text — is it the right column?"
            ])
        // A short column that never parses is reported at the end; one that parses sometimes is not reported.
        let short = CSVTransformer(options: options(["parse_dates": .array([.string("a"), .string("b")])]))
        Array("a,b\nx,2024-01-01\ny,nope\n".utf8).withUnsafeBytes { try? short.push($0, into: &output) }
        #expect(short.warnings.isEmpty)
        try? short.finish(into: &output)
        #expect(
            short.warnings == [
                "parse_dates column 'a': none of the first 2 non-empty values is a date (e.g. \"x\"); "
                    + "values are kept as text — is it the right column?"
            ])
        #expect(short.counters.datesUnparsedByColumn == [.init(column: "a", count: 2), .init(column: "b", count: 1)])
    }
}
