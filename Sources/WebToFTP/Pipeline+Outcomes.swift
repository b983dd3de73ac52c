@_spi(Internals) import Reactor

extension Pipeline {
    /// A source's outcome, logged as `published` or `failed`.
    func record(
        _ source: SourceConfig, attempts: Int, start: UInt64, _ result: Result<TransferResult, TransferFailure>
    ) {
        let duration = Int((MonotonicClock.monotonicNanoseconds() - start) / 1_000_000)
        var result = result
        if case .failure(var failure) = result {
            if cancelled != nil { failure.interrupted = true }
            failure.bytesIn += receivedBefore.removeValue(forKey: source.name) ?? 0
            result = .failure(failure)
        } else {
            receivedBefore[source.name] = nil
        }
        let outcome = SourceOutcome(name: source.name, attempts: attempts, durationMS: duration, result: result)
        outcomes.append(outcome)
        metricsUpdates[source.name] = SourceMetrics.after(
            outcome, previous: previousMetrics(source.name), nowMS: MonotonicClock.unixMilliseconds())
        switch result {
        case .success(let done):
            if let fingerprint = fingerprints[source.name] {
                stateUpdates[source.name] = PublishedRecord(
                    fingerprint: fingerprint, etag: done.etag, lastModified: done.lastModified, url: done.finalURL,
                    path: done.path,
                    bytes: done.unchanged == nil ? done.bytesOut : (done.recordedBytes ?? done.bytesOut),
                    sha256: done.sha256)
            }
            if let reason = done.unchanged {
                log.event(
                    .info, source: source.name, "unchanged",
                    [
                        .init("reason", .text(reason)), .init("path", .text(done.path)),
                        .init("http_status", .integer(Int64(done.status))), .init("url", .text(done.finalURL)),
                        .init("bytes_in", .integer(Int64(done.bytesIn))),
                        .init("duration_ms", .integer(Int64(duration))),
                    ])
                return
            }
            for warning in done.warnings {
                log.event(.warning, source: source.name, "leftovers", [("detail", warning)])
            }
            var fields: [RunEvent.Field] = [
                .init("path", .text(done.path)), .init("bytes", .integer(Int64(done.bytesOut))),
                .init("sha256", .text(done.sha256)), .init("http_status", .integer(Int64(done.status))),
                .init("url", .text(done.finalURL)), .init("bytes_in", .integer(Int64(done.bytesIn))),
                .init("duration_ms", .integer(Int64(duration))),
                .init("bytes_per_s", .integer(duration > 0 ? Int64(done.bytesOut * 1000 / UInt64(duration)) : 0)),
            ]
            if let resumed = done.resumedBytes { fields.append(.init("resumed_bytes", .integer(Int64(resumed)))) }
            if let csv = done.csv { fields += CSVReport.fields(csv) }
            if let tls = done.httpTLS { fields.append(.init("http_tls", .text(tls))) }
            if let resumed = done.ftpDataResumed { fields.append(.init("ftp_data_tls_resumed", .text("\(resumed)"))) }
            log.event(.info, source: source.name, "published", fields)
        case .failure(let failure):
            log.event(
                .error, source: source.name, "failed",
                [
                    .init("class", .text(failure.failureClass)), .init("attempts", .integer(Int64(attempts))),
                    .init("reason", .text(failure.reason)),
                ])
        }
    }

    /// The run's `summary` (a dry run's `dry_run_summary`), then each failure again, so that the end of the log says
    /// what went wrong.
    func logSummary(_ summary: RunSummary, dryRun: Bool) {
        log.event(
            summary.failed.isEmpty ? .info : .warning, source: nil, dryRun ? "dry_run_summary" : "summary",
            summary.fields)
        for failure in summary.failed {
            if case .failure(let reason) = failure.result {
                log.event(.error, source: failure.name, "failed_summary", [("reason", reason.reason)])
            }
        }
    }
}
