/// The summary of one run, for the log, stderr and `--summary-json`.
public struct RunSummary: Sendable {
    public var outcomes: [SourceOutcome]
    public var wallMS: Int
    public var ftpHost: String
    public var ftpTarget: String
    public var started: String
    /// What the process held when the run started and ended: open descriptors (start, end) and peak resident KiB.
    /// Equal descriptor counts across a run are the everyday check that no connection or file was leaked.
    @_spi(Internals) public var process: ProcessFigures?
    /// `K/N` when the run was one shard of its config (`--shard`).
    @_spi(Internals) public var shard: String?
    /// What `--metrics-file` writes: this run's figures and the last ones of every source of the config (or shard).
    /// nil after a dry run, which writes none.
    @_spi(Internals) public var metrics: RunMetrics?

    @_spi(Internals) public struct ProcessFigures: Sendable {
        public var openFDsAtStart: Int
        public var openFDsAtEnd: Int
        public var peakResidentKiB: Int

        @_spi(Internals) public init(openFDsAtStart: Int, openFDsAtEnd: Int, peakResidentKiB: Int) {
            self.openFDsAtStart = openFDsAtStart
            self.openFDsAtEnd = openFDsAtEnd
            self.peakResidentKiB = peakResidentKiB
        }
    }

    @_spi(Internals) public init(
        outcomes: [SourceOutcome], wallMS: Int, ftpHost: String, ftpTarget: String, started: String
    ) {
        self.outcomes = outcomes
        self.wallMS = wallMS
        self.ftpHost = ftpHost
        self.ftpTarget = ftpTarget
        self.started = started
    }

    public var succeeded: [SourceOutcome] { outcomes.filter { if case .success = $0.result { true } else { false } } }
    public var failed: [SourceOutcome] { outcomes.filter { if case .failure = $0.result { true } else { false } } }
    /// Sources that succeeded without publishing: unchanged since their last publication (see the state file).
    public var unchanged: Int { results.filter { $0.unchanged != nil }.count }
    public var retried: Int { outcomes.filter { $0.attempts > 1 }.count }
    /// Nothing was published because the FTP destination is unusable (see `TransferFailure.destinationUnusable`):
    /// the CLI's exit code 4.
    public var destinationUnusable: Bool {
        succeeded.isEmpty
            && outcomes.contains {
                if case .failure(let failure) = $0.result {
                    failure.destinationUnusable && !failure.interrupted
                } else {
                    false
                }
            }
    }

    private var results: [TransferResult] { outcomes.compactMap { try? $0.result.get() } }
    /// Body bytes received: the published sources', and whatever the failed ones received before they failed.
    public var bytesDownloaded: UInt64 {
        outcomes.reduce(0) { total, outcome in
            switch outcome.result {
            case .success(let done): total + done.bytesIn
            case .failure(let failure): total + failure.bytesIn
            }
        }
    }
    public var bytesUploaded: UInt64 { results.reduce(0) { $0 + $1.bytesOut } }
    public var rows: Int { results.reduce(0) { $0 + ($1.rowsOut ?? 0) } }
    /// The CSV counters summed over the published sources (see `CSVReport`).
    var csvTotals: [RunEvent.Field] { CSVReport.totals(results.compactMap(\.csv)) }

    /// Per-source durations: min, median, max (ms).
    public var durations: (min: Int, median: Int, max: Int) {
        let sorted = outcomes.map(\.durationMS).sorted()
        guard let first = sorted.first, let last = sorted.last else { return (0, 0, 0) }
        return (first, sorted[sorted.count / 2], last)
    }

    /// Bytes uploaded per second of wall time.
    public var throughput: Double { wallMS > 0 ? Double(bytesUploaded) / (Double(wallMS) / 1000) : 0 }

    /// The `summary` event's fields: counts, bytes and durations as integers.
    @_spi(Internals) public var fields: [RunEvent.Field] {
        let d = durations
        func integer(_ key: String, _ value: some BinaryInteger) -> RunEvent.Field {
            .init(key, .integer(Int64(value)))
        }
        return (shard.map { [.init("shard", .text($0))] } ?? []) + [
            integer("sources", outcomes.count), integer("succeeded", succeeded.count),
            integer("failed", failed.count), integer("unchanged", unchanged), integer("retried", retried),
            integer("bytes_down", bytesDownloaded),
            integer("bytes_up", bytesUploaded), integer("rows", rows),
        ] + csvTotals + [
            integer("wall_ms", wallMS), integer("duration_ms_min", d.min), integer("duration_ms_median", d.median),
            integer("duration_ms_max", d.max), integer("throughput_bytes_per_s", Int(throughput)),
            .init("ftp_host", .text(ftpHost)), .init("ftp_target", .text(ftpTarget)),
        ]
            + (process.map {
                [
                    integer("open_fds_start", $0.openFDsAtStart), integer("open_fds_end", $0.openFDsAtEnd),
                    integer("peak_rss_kib", $0.peakResidentKiB),
                ]
            } ?? [])
    }

    /// The summary as JSON (schema in the README).
    public var json: String {
        let d = durations
        var sources: [String] = []
        for outcome in outcomes {
            var fields = [
                ("name", JSONWriter.string(outcome.name)), ("attempts", "\(outcome.attempts)"),
                ("duration_ms", "\(outcome.durationMS)"),
            ]
            switch outcome.result {
            case .success(let done):
                fields += [
                    ("status", done.unchanged == nil ? "\"published\"" : "\"unchanged\"")
                ]
                if let reason = done.unchanged { fields.append(("reason", JSONWriter.string(reason))) }
                fields += [
                    ("path", JSONWriter.string(done.path)),
                    ("bytes_down", "\(done.bytesIn)"), ("bytes_up", "\(done.bytesOut)"),
                    ("rows", done.rowsOut.map { "\($0)" } ?? "null"), ("csv", done.csv.map(CSVReport.json) ?? "null"),
                    ("sha256", JSONWriter.string(done.sha256)),
                    ("url", JSONWriter.string(done.finalURL)),
                ]
            case .failure(let failure):
                fields += [
                    ("status", "\"failed\""), ("class", JSONWriter.string(failure.failureClass)),
                    ("reason", JSONWriter.string(failure.reason)), ("bytes_down", "\(failure.bytesIn)"),
                ]
            }
            sources.append(JSONWriter.object(fields))
        }
        return JSONWriter.object(
            (shard.map { [("shard", JSONWriter.string($0))] } ?? []) + [
                ("started", JSONWriter.string(started)), ("sources_total", "\(outcomes.count)"),
                ("succeeded", "\(succeeded.count)"), ("failed", "\(failed.count)"), ("unchanged", "\(unchanged)"),
                ("retried", "\(retried)"),
                ("bytes_down", "\(bytesDownloaded)"), ("bytes_up", "\(bytesUploaded)"), ("rows", "\(rows)"),
            ] + csvTotals.map { ($0.key, $0.value.description) } + [
                ("wall_ms", "\(wallMS)"),
                (
                    "duration_ms",
                    JSONWriter.object([("min", "\(d.min)"), ("median", "\(d.median)"), ("max", "\(d.max)")])
                ),
                ("throughput_bytes_per_s", "\(Int(throughput))"), ("ftp_host", JSONWriter.string(ftpHost)),
                ("ftp_target", JSONWriter.string(ftpTarget)),
            ]
                + (process.map {
                    [
                        (
                            "process",
                            JSONWriter.object([
                                ("open_fds_start", "\($0.openFDsAtStart)"), ("open_fds_end", "\($0.openFDsAtEnd)"),
                                ("peak_rss_kib", "\($0.peakResidentKiB)"),
                            ])
                        )
                    ]
                } ?? []) + [("sources", "[" + sources.joined(separator: ",") + "]")]) + "\n"
    }
}

enum JSONWriter {
    /// A JSON string; every control character escaped (C0, DEL and C1: a log line must stay one printable line).
    static func string(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.properties.generalCategory == .control:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    static func object(_ fields: [(String, String)]) -> String {
        "{" + fields.map { "\(string($0.0)):\($0.1)" }.joined(separator: ",") + "}"
    }
}
