@_spi(Internals) import HTTP1
import Testing

@_spi(Internals) @testable import WebToFTP

/// Issue #19 item 4, the pure parts: the exposition text, what a run does to each source's figures, the state file
/// that keeps them, the Pushgateway's URL.
@Suite("metrics: the exposition text, the figures kept between runs, the push URL")
struct MetricsTests {
    static func figures(
        up: Bool = true, success: Int64? = 1_764_627_780_123, bytes: UInt64 = 8, rows: Int? = 2,
        durationMS: Int = 1_500, attempts: Int = 1
    ) -> SourceMetrics {
        SourceMetrics(
            lastSuccessMS: success, up: up, bytesUploaded: bytes, rows: rows, durationMS: durationMS,
            attempts: attempts)
    }

    static func metrics(_ sources: [String: SourceMetrics], shard: Shard? = nil) -> RunMetrics {
        RunMetrics(
            finishedMS: 1_764_627_790_000, wallMS: 2_007,
            counts: [.published: 1, .unchanged: 0, .failed: 1, .skipped: 1], version: "1.2.3", shard: shard,
            sources: sources)
    }

    @Test("the whole text: HELP and TYPE per family, gauges, run figures, sources in byte order of their names")
    func wholeText() {
        let text = Self.metrics([
            "b": Self.figures(up: false, success: nil, bytes: 0, rows: nil, durationMS: 7, attempts: 3),
            "a": Self.figures(),
        ]).text
        #expect(
            text == """
                # HELP web2ftp_build_info The web2ftp version that wrote these metrics (always 1).
                # TYPE web2ftp_build_info gauge
                web2ftp_build_info{version="1.2.3"} 1
                # HELP web2ftp_run_last_timestamp_seconds Unix time at which the last run ended.
                # TYPE web2ftp_run_last_timestamp_seconds gauge
                web2ftp_run_last_timestamp_seconds 1764627790
                # HELP web2ftp_run_duration_seconds Wall time of the last run.
                # TYPE web2ftp_run_duration_seconds gauge
                web2ftp_run_duration_seconds 2.007
                # HELP web2ftp_run_sources Sources of the last run by outcome (skipped: not run this time, --only; their values are kept).
                # TYPE web2ftp_run_sources gauge
                web2ftp_run_sources{status="published"} 1
                web2ftp_run_sources{status="unchanged"} 0
                web2ftp_run_sources{status="failed"} 1
                web2ftp_run_sources{status="interrupted"} 0
                web2ftp_run_sources{status="skipped"} 1
                # HELP web2ftp_source_up 1 when the source's last run published it or found it unchanged, 0 when it failed.
                # TYPE web2ftp_source_up gauge
                web2ftp_source_up{source="a"} 1
                web2ftp_source_up{source="b"} 0
                # HELP web2ftp_source_last_success_timestamp_seconds Unix time of the source's last publication or unchanged check (0: none recorded).
                # TYPE web2ftp_source_last_success_timestamp_seconds gauge
                web2ftp_source_last_success_timestamp_seconds{source="a"} 1764627780.123
                web2ftp_source_last_success_timestamp_seconds{source="b"} 0
                # HELP web2ftp_source_bytes_uploaded Bytes the source's last run sent to the FTP server (0 when it failed).
                # TYPE web2ftp_source_bytes_uploaded gauge
                web2ftp_source_bytes_uploaded{source="a"} 8
                web2ftp_source_bytes_uploaded{source="b"} 0
                # HELP web2ftp_source_rows CSV rows of the source's current publication (sources with a CSV transform only).
                # TYPE web2ftp_source_rows gauge
                web2ftp_source_rows{source="a"} 2
                # HELP web2ftp_source_duration_seconds How long the source's last run took, retries and back-off included.
                # TYPE web2ftp_source_duration_seconds gauge
                web2ftp_source_duration_seconds{source="a"} 1.5
                web2ftp_source_duration_seconds{source="b"} 0.007
                # HELP web2ftp_source_attempts Attempts the source's last run made (0: cut short before its first).
                # TYPE web2ftp_source_attempts gauge
                web2ftp_source_attempts{source="a"} 1
                web2ftp_source_attempts{source="b"} 3

                """)
    }

    @Test("label values: backslash, double quote and line feed escaped, nothing else; names sorted by bytes")
    func escaping() {
        let name = "a \"quoted\" \\ back\\slash\nnew line\ttab é"
        let text = Self.metrics([name: Self.figures(), "Z": Self.figures(), "ä": Self.figures()]).text
        #expect(
            text.contains("web2ftp_source_up{source=\"a \\\"quoted\\\" \\\\ back\\\\slash\\nnew line\ttab é\"} 1\n"))
        #expect(RunMetrics.escapedLabelValue("\\\"\n") == "\\\\\\\"\\n")
        // One sample per line: the line feed in the name did not start another.
        let up = text.split(separator: "\n").filter { $0.hasPrefix("web2ftp_source_up{") }
        #expect(up.count == 3)
        #expect(up[0].hasPrefix("web2ftp_source_up{source=\"Z\"") && up[2].hasPrefix("web2ftp_source_up{source=\"ä\""))
    }

    @Test("a shard run: every sample carries shard=K and shards=N (the Pushgateway's grouping key is shard/K)")
    func shardLabels() {
        let text = Self.metrics(["a": Self.figures()], shard: Shard(index: 2, count: 5)).text
        let samples = text.split(separator: "\n").filter { !$0.hasPrefix("#") }
        #expect(!samples.isEmpty)
        #expect(samples.allSatisfy { $0.contains("shard=\"2\",shards=\"5\"}") }, "\(samples)")
        #expect(text.contains("web2ftp_run_last_timestamp_seconds{shard=\"2\",shards=\"5\"} 1764627790\n"))
        #expect(text.contains("web2ftp_source_up{source=\"a\",shard=\"2\",shards=\"5\"} 1\n"))
    }

    @Test(
        "seconds from milliseconds, formatted by our own code",
        arguments: [
            (0, "0"), (7, "0.007"), (10, "0.01"), (1_500, "1.5"), (2_000, "2"), (61_234, "61.234"), (-5, "0"),
            (1_764_627_780_120, "1764627780.12"),
        ] as [(Int64, String)])
    func seconds(milliseconds: Int64, expected: String) {
        #expect(RunMetrics.seconds(milliseconds: milliseconds) == expected)
    }

    @Test("no sources: the run's families only, no empty source family")
    func noSources() {
        let text = Self.metrics([:]).text
        #expect(!text.contains("web2ftp_source_"))
        #expect(text.contains("web2ftp_run_sources{status=\"failed\"} 1"))
    }

    static func outcome(_ result: Result<TransferResult, TransferFailure>, attempts: Int = 2) -> SourceOutcome {
        SourceOutcome(name: "a", attempts: attempts, durationMS: 42, result: result)
    }

    static func done(bytes: UInt64 = 10, unchanged: String? = nil) -> TransferResult {
        var result = TransferResult(
            path: "/t/a.csv", bytesIn: 12, bytesOut: bytes, csv: nil, finalURL: "http://h/a.csv", status: 200,
            httpTLS: nil, ftpDataResumed: nil, sha256: "s", warnings: [])
        result.unchanged = unchanged
        return result
    }

    @Test("what a run makes of a source's figures: success, unchanged, failure, interrupted")
    func after() {
        let previous = Self.figures(success: 1_000, bytes: 8, rows: 5)
        let published = SourceMetrics.after(Self.outcome(.success(Self.done())), previous: previous, nowMS: 9_000)
        #expect(published == Self.figures(success: 9_000, bytes: 10, rows: nil, durationMS: 42, attempts: 2))
        // A 304: nothing transformed, the publication's rows are the previous count.
        let unchanged = SourceMetrics.after(
            Self.outcome(.success(Self.done(bytes: 0, unchanged: "not-modified"))), previous: previous, nowMS: 9_000)
        #expect(unchanged == Self.figures(success: 9_000, bytes: 0, rows: 5, durationMS: 42, attempts: 2))
        let failure = TransferFailure(reason: "404", transient: false, retryAfter: nil)
        let failed = SourceMetrics.after(Self.outcome(.failure(failure)), previous: previous, nowMS: 9_000)
        #expect(failed == Self.figures(up: false, success: 1_000, bytes: 0, rows: 5, durationMS: 42, attempts: 2))
        let firstFailure = SourceMetrics.after(Self.outcome(.failure(failure)), previous: nil, nowMS: 9_000)
        #expect(firstFailure?.lastSuccessMS == nil && firstFailure?.up == false)
        var interrupted = failure
        interrupted.interrupted = true
        #expect(SourceMetrics.after(Self.outcome(.failure(interrupted)), previous: previous, nowMS: 9_000) == nil)
        #expect(
            RunMetrics.counts(
                [
                    Self.outcome(.success(Self.done())), Self.outcome(.success(Self.done(unchanged: "identical"))),
                    Self.outcome(.failure(failure)), Self.outcome(.failure(interrupted)),
                ], skipped: 3) == [.published: 1, .unchanged: 1, .failed: 1, .interrupted: 1, .skipped: 3])
    }

    @Test("--only: the sources not run keep their figures; a source gone from the config leaves the file")
    func keptAndRemoved() {
        var previous = SyncState()
        previous.metrics = [
            "ran": Self.figures(bytes: 1), "notRun": Self.figures(up: false, bytes: 0), "removed": Self.figures(),
        ]
        let next = SyncState.merged(
            previous, configNames: ["ran", "notRun"], updates: [:], metrics: ["ran": Self.figures(bytes: 99)])
        #expect(next.metrics == ["ran": Self.figures(bytes: 99), "notRun": Self.figures(up: false, bytes: 0)])
        let text = Self.metrics(next.metrics).text
        #expect(text.contains("web2ftp_source_up{source=\"notRun\"} 0\n"))
        #expect(text.contains("web2ftp_source_bytes_uploaded{source=\"ran\"} 99\n"))
        #expect(!text.contains("removed"))
    }

    @Test("the state file keeps the figures; one without them (older) still reads; a bad entry is dropped alone")
    func stateFile() {
        var state = SyncState()
        state.sources["a"] = SyncStateTests.record()
        state.metrics = ["a": Self.figures(), "b \"q\"": Self.figures(up: false, success: nil, rows: nil)]
        #expect(SyncState.parse(state.json) == state)
        let older = "{\"version\":1,\"sources\":{}}"
        #expect(SyncState.parse(older) == SyncState())
        let bad = """
            {"version":1,"sources":{},"metrics":{"x":{"up":"yes"},"y":{"last_success_ms":null,"up":true,\
            "bytes_uploaded":1,"rows":null,"duration_ms":2,"attempts":1}}}
            """
        #expect(
            SyncState.parse(bad)?.metrics
                == ["y": Self.figures(success: nil, bytes: 1, rows: nil, durationMS: 2, attempts: 1)])
    }

    @Test(
        "the Pushgateway's URL: the base's path + /metrics/job/web2ftp, + /shard/K on a shard run",
        arguments: [
            ("http://gw:9091", nil, "http://gw:9091/metrics/job/web2ftp"),
            ("http://gw:9091/", nil, "http://gw:9091/metrics/job/web2ftp"),
            ("https://gw/push/", Shard(index: 3, count: 4), "https://gw/push/metrics/job/web2ftp/shard/3"),
            ("https://gw/push", Shard(index: 0, count: 1), "https://gw/push/metrics/job/web2ftp/shard/0"),
        ] as [(String, Shard?, String)])
    func pushURL(base: String, shard: Shard?, expected: String) throws {
        #expect(RunMetrics.pushURL(try HTTPURL(base), shard: shard).description == expected)
    }
}
