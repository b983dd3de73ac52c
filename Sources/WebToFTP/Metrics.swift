@_spi(Internals) import HTTP1

/// A source's figures for the metrics file (`--metrics-file`): how its last run went, and when it last succeeded.
/// Kept in the state file, so that a run that does not run the source (`--only`) still writes them, as they were.
struct SourceMetrics: Equatable, Sendable {
    /// Unix milliseconds of its last success (published or unchanged); nil: none the state file knows of.
    var lastSuccessMS: Int64?
    /// Its last run published it or found it unchanged.
    var up: Bool
    /// Bytes its last run sent to the FTP server (`bytes_up` of `--summary-json`); 0 when it failed.
    var bytesUploaded: UInt64
    /// Rows of its current publication, as the CSV transform counted them: a run that leaves the published file as
    /// it is (unchanged, failed) keeps the count. nil for a source without a CSV transform (nothing is counted).
    var rows: Int?
    var durationMS: Int
    var attempts: Int

    /// A run's outcome for the source, after `previous`; nil when it leaves the last values as they were
    /// (interrupted: the source neither succeeded nor failed on its own).
    static func after(_ outcome: SourceOutcome, previous: SourceMetrics?, nowMS: Int64) -> SourceMetrics? {
        switch outcome.result {
        case .success(let done):
            // A 304 transforms nothing: the publication, and so its count, is the previous one.
            return SourceMetrics(
                lastSuccessMS: nowMS, up: true, bytesUploaded: done.bytesOut,
                rows: done.rowsOut ?? (done.unchanged != nil ? previous?.rows : nil), durationMS: outcome.durationMS,
                attempts: outcome.attempts)
        case .failure(let failure):
            guard !failure.interrupted else { return nil }
            return SourceMetrics(
                lastSuccessMS: previous?.lastSuccessMS, up: false, bytesUploaded: 0, rows: previous?.rows,
                durationMS: outcome.durationMS, attempts: outcome.attempts)
        }
    }

    /// As the state file keeps it.
    var json: String {
        JSONWriter.object([
            ("last_success_ms", lastSuccessMS.map { "\($0)" } ?? "null"), ("up", up ? "true" : "false"),
            ("bytes_uploaded", "\(bytesUploaded)"), ("rows", rows.map { "\($0)" } ?? "null"),
            ("duration_ms", "\(durationMS)"), ("attempts", "\(attempts)"),
        ])
    }

    /// nil: not what `json` writes.
    init?(json fields: [(key: String, value: JSONValue)]) {
        func value(_ key: String) -> JSONValue? { fields.first { $0.key == key }?.value }
        func integer(_ key: String) -> Int? {
            if case .number(_, let integer?)? = value(key) { integer } else { nil }
        }
        /// An integer or null: nil when it is neither.
        func optionalInteger(_ key: String) -> Int?? {
            if case .null? = value(key) { return .some(nil) }
            return integer(key).map { .some($0) }
        }
        guard case .bool(let up)? = value("up"), let bytes = integer("bytes_uploaded"), bytes >= 0,
            let duration = integer("duration_ms"), let attempts = integer("attempts"),
            let lastSuccess = optionalInteger("last_success_ms"), let rows = optionalInteger("rows")
        else { return nil }
        self.init(
            lastSuccessMS: lastSuccess.map(Int64.init), up: up, bytesUploaded: UInt64(bytes), rows: rows,
            durationMS: duration, attempts: attempts)
    }

    init(lastSuccessMS: Int64?, up: Bool, bytesUploaded: UInt64, rows: Int?, durationMS: Int, attempts: Int) {
        self.lastSuccessMS = lastSuccessMS
        self.up = up
        self.bytesUploaded = bytesUploaded
        self.rows = rows
        self.durationMS = durationMS
        self.attempts = attempts
    }
}

/// What `--metrics-file` writes and `--metrics-push` sends: the run's figures and every source's of the config (or
/// shard) as the state file has them after the run, in the Prometheus text exposition format 0.0.4. Gauges only:
/// each value is the last run's, or a time. Pure.
@_spi(Internals) public struct RunMetrics: Equatable, Sendable {
    /// How a source of the config ended in this run (`web2ftp_run_sources{status=…}`).
    public enum Status: String, CaseIterable, Sendable {
        case published, unchanged, failed
        /// Cut short by a signal or a cancel: its last values are kept.
        case interrupted
        /// Not run this time (`--only`): its last values are kept.
        case skipped
    }

    /// When the run ended, in Unix milliseconds.
    var finishedMS: Int64
    var wallMS: Int
    var counts: [Status: Int]
    var version: String
    /// On a shard run every sample carries `shard="K"` and `shards="N"`: K is also the Pushgateway's grouping key,
    /// which overwrites a label of the same name with its own value.
    var shard: Shard?
    /// By source name: the sources of the config (or shard) the state file knows, after this run.
    var sources: [String: SourceMetrics]

    /// The counts of a run's outcomes, and the names `--only` left out.
    static func counts(_ outcomes: [SourceOutcome], skipped: Int) -> [Status: Int] {
        var counts: [Status: Int] = [.skipped: skipped]
        for outcome in outcomes {
            let status: Status
            switch outcome.result {
            case .success(let done): status = done.unchanged == nil ? .published : .unchanged
            case .failure(let failure): status = failure.interrupted ? .interrupted : .failed
            }
            counts[status, default: 0] += 1
        }
        return counts
    }

    /// The exposition text: each family's HELP and TYPE, then its samples, sources in the byte order of their names;
    /// a family without samples is left out (no source counted rows).
    public var text: String {
        let shardLabels = shard.map { [("shard", "\($0.index)"), ("shards", "\($0.count)")] } ?? []
        var out = ""
        /// A family's HELP and TYPE, then each sample: its labels (the shard's added) and its value.
        func family(_ name: String, _ help: String, _ samples: [([(String, String)], String)]) {
            guard !samples.isEmpty else { return }
            out += "# HELP \(name) \(help)\n# TYPE \(name) gauge\n"
            for (own, value) in samples {
                let labels = own + shardLabels
                out += name
                if !labels.isEmpty {
                    out +=
                        "{" + labels.map { "\($0.0)=\"\(Self.escapedLabelValue($0.1))\"" }.joined(separator: ",") + "}"
                }
                out += " \(value)\n"
            }
        }
        family(
            "web2ftp_build_info", "The web2ftp version that wrote these metrics (always 1).",
            [([("version", version)], "1")])
        family(
            "web2ftp_run_last_timestamp_seconds", "Unix time at which the last run ended.",
            [([], Self.seconds(milliseconds: finishedMS))])
        family(
            "web2ftp_run_duration_seconds", "Wall time of the last run.",
            [([], Self.seconds(milliseconds: Int64(wallMS)))])
        family(
            "web2ftp_run_sources",
            "Sources of the last run by outcome (skipped: not run this time, --only; their values are kept).",
            Status.allCases.map { ([("status", $0.rawValue)], "\(counts[$0] ?? 0)") })
        let names = sources.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        func perSource(_ value: (SourceMetrics) -> String?) -> [([(String, String)], String)] {
            names.compactMap { name in sources[name].flatMap(value).map { ([("source", name)], $0) } }
        }
        family(
            "web2ftp_source_up", "1 when the source's last run published it or found it unchanged, 0 when it failed.",
            perSource { $0.up ? "1" : "0" })
        family(
            "web2ftp_source_last_success_timestamp_seconds",
            "Unix time of the source's last publication or unchanged check (0: none recorded).",
            perSource { Self.seconds(milliseconds: $0.lastSuccessMS ?? 0) })
        family(
            "web2ftp_source_bytes_uploaded", "Bytes the source's last run sent to the FTP server (0 when it failed).",
            perSource { "\($0.bytesUploaded)" })
        family(
            "web2ftp_source_rows", "CSV rows of the source's current publication (sources with a CSV transform only).",
            perSource { $0.rows.map { "\($0)" } })
        family(
            "web2ftp_source_duration_seconds", "How long the source's last run took, retries and back-off included.",
            perSource { Self.seconds(milliseconds: Int64($0.durationMS)) })
        family(
            "web2ftp_source_attempts", "Attempts the source's last run made (0: cut short before its first).",
            perSource { "\($0.attempts)" })
        return out
    }

    /// A label value as the text format quotes it: backslash, double quote and line feed escaped (nothing else is).
    static func escapedLabelValue(_ value: String) -> String {
        var out = ""
        for character in value.unicodeScalars {
            switch character {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(character)
            }
        }
        return out
    }

    /// Milliseconds as decimal seconds, without trailing zeros: 1500 → `1.5`, 2000 → `2`, 7 → `0.007`.
    static func seconds(milliseconds: Int64) -> String {
        let value = max(0, milliseconds)
        let whole = "\(value / 1000)"
        var fraction = "\(value % 1000)"
        guard fraction != "0" else { return whole }
        fraction = String(repeating: "0", count: 3 - fraction.count) + fraction
        while fraction.hasSuffix("0") { fraction.removeLast() }
        return whole + "." + fraction
    }
}

extension RunMetrics {
    /// Where `--metrics-push` PUTs: the base URL's path + `/metrics/job/web2ftp`, + `/shard/K` on a shard run (the
    /// Pushgateway's grouping key: a PUT replaces that group's metrics only, so shards do not erase one another's,
    /// and the `shard` label it sets is the one the text already carries).
    @_spi(Internals) public static func pushURL(_ base: HTTPURL, shard: Shard?) -> HTTPURL {
        var url = base
        let prefix = base.path.hasSuffix("/") ? String(base.path.dropLast()) : base.path
        url.path = prefix + "/metrics/job/web2ftp" + (shard.map { "/shard/\($0.index)" } ?? "")
        url.query = nil
        return url
    }
}
