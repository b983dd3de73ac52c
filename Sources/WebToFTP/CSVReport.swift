@_spi(Internals) import CSVStream

/// How a source's CSV transform is reported: notes on its PARAMS before it runs, its counters on the `published`
/// line, in `--summary-json` and, summed, in the run's `summary`. One place, so the log and the JSON use the same
/// names.
@_spi(Internals) public enum CSVReport {
    /// PARAMS accepted without effect, said once per source per run: at WARN for keys the config can drop, at INFO
    /// for a text `dtype` (it asks for what is done anyway), as given.
    public static func notes(_ options: CSVOptions) -> [(RunLog.Level, [(String, String)])] {
        var notes: [(RunLog.Level, [(String, String)])] = []
        if !options.ignoredKeys.isEmpty {
            notes.append(
                (
                    .warning,
                    [
                        ("ignored_keys", options.ignoredKeys.sorted().joined(separator: ",")),
                        ("detail", "accepted without effect; drop them from PARAMS to silence this"),
                    ]
                ))
        }
        if let dtype = options.textDtype {
            notes.append((.info, [("dtype", dtype), ("detail", "values are always copied as text")]))
        }
        return notes
    }

    /// The counters in log order (`rows` stays first and means rows written, as before).
    public static func fields(_ counters: CSVCounters) -> [RunEvent.Field] {
        [
            .init("rows", .integer(Int64(counters.rowsOut))), .init("rows_in", .integer(Int64(counters.rowsIn))),
            .init("bad_rows_skipped", .integer(Int64(counters.badRowsSkipped))),
            .init("dates_unparsed", .integer(Int64(counters.datesUnparsed))),
            .init("values_replaced", .integer(Int64(counters.valuesReplaced))),
            .init("thousands_decimal_rewritten", .integer(Int64(counters.thousandsDecimalRewritten))),
        ]
    }

    /// `sources[].csv`: the counters, with the unparsed dates per `parse_dates` column.
    static func json(_ counters: CSVCounters) -> String {
        let perColumn = counters.datesUnparsedByColumn.map { ($0.column, "\($0.count)") }
        return JSONWriter.object([
            ("rows_in", "\(counters.rowsIn)"), ("rows_out", "\(counters.rowsOut)"),
            ("bad_rows_skipped", "\(counters.badRowsSkipped)"),
            ("dates_unparsed", JSONWriter.object(perColumn)),
            ("values_replaced", "\(counters.valuesReplaced)"),
            ("thousands_decimal_rewritten", "\(counters.thousandsDecimalRewritten)"),
        ])
    }

    /// The run's totals over the sources that published with a transform.
    static func totals(_ all: [CSVCounters]) -> [RunEvent.Field] {
        var sum = CSVCounters()
        for counters in all {
            sum.rowsIn += counters.rowsIn
            sum.rowsOut += counters.rowsOut
            sum.badRowsSkipped += counters.badRowsSkipped
            sum.datesUnparsed += counters.datesUnparsed
            sum.valuesReplaced += counters.valuesReplaced
            sum.thousandsDecimalRewritten += counters.thousandsDecimalRewritten
        }
        return fields(sum).filter { $0.key != "rows" }
    }
}
