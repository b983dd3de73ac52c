import Reactor

extension Pipeline {
    /// A source's outcome, logged as `published` or `failed`.
    func record(
        _ source: SourceConfig, attempts: Int, start: UInt64, _ result: Result<TransferResult, TransferFailure>
    ) {
        let duration = Int((MonotonicClock.monotonicNanoseconds() - start) / 1_000_000)
        var result = result
        if cancelled != nil, case .failure(var failure) = result {
            failure.interrupted = true
            result = .failure(failure)
        }
        outcomes.append(SourceOutcome(name: source.name, attempts: attempts, durationMS: duration, result: result))
        switch result {
        case .success(let done):
            for warning in done.warnings {
                log.event(.warning, source: source.name, "leftovers", [("detail", warning)])
            }
            var fields: [(String, String)] = [
                ("path", done.path), ("bytes", "\(done.bytesOut)"), ("sha256", done.sha256),
                ("http_status", "\(done.status)"), ("url", done.finalURL), ("bytes_in", "\(done.bytesIn)"),
                ("duration_ms", "\(duration)"),
                ("rate_bps", "\(duration > 0 ? Int(done.bytesOut * 1000 / UInt64(duration)) : 0)"),
            ]
            if let csv = done.csv { fields += CSVReport.fields(csv) }
            if let tls = done.httpTLS { fields.append(("http_tls", tls)) }
            if let resumed = done.ftpDataResumed { fields.append(("ftp_data_tls_resumed", "\(resumed)")) }
            log.event(.info, source: source.name, "published", fields)
        case .failure(let failure):
            log.event(
                .error, source: source.name, "failed",
                [
                    ("class", failure.failureClass), ("attempts", "\(attempts)"),
                    ("reason", failure.reason),
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
