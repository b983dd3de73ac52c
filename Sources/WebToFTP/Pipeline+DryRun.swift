@_spi(Internals) import HTTP1
@_spi(Internals) import Reactor

extension Pipeline {
    /// `--dry-run`: checks everything a run needs without transferring anything — the FTP login (with TLS), and for
    /// each source a ranged GET (`Range: bytes=0-0`) that must answer 2xx and not `text/html`; the request is dropped
    /// once the head is in. Outcomes are reported like a run's, the path being where the file would go.
    func check() {
        pool.acquire { result in
            var loginProblem: TransferFailure?
            switch result {
            case .success(let session):
                self.pool.release(session)
            case .failure(let error):
                if let dead = self.pool.unusable {
                    // As in a run: every source fails at once with the reason (the pool logged it).
                    let failure = Self.destinationFailure(dead)
                    for source in self.sources {
                        self.outcomes.append(
                            SourceOutcome(name: source.name, attempts: 0, durationMS: 0, result: .failure(failure)))
                        self.logCheck(source, .failure(failure))
                    }
                    return self.advance()
                }
                // Every source reports it.
                self.log.event(.error, source: nil, "ftp_login", [("reason", "\(error)")])
                loginProblem = Transfer.classify(error)
            }
            var remaining = self.sources[...]
            func next() {
                if let reason = self.cancelled {
                    // Interrupted: the sources not probed yet fail with the reason, as a run's queued ones do.
                    let failure = TransferFailure(reason: reason, transient: false, retryAfter: nil)
                    for source in remaining {
                        self.outcomes.append(
                            SourceOutcome(name: source.name, attempts: 0, durationMS: 0, result: .failure(failure)))
                    }
                    remaining = []
                }
                guard let source = remaining.popFirst() else { return self.advance() }
                for (level, fields) in CSVReport.notes(source.csv) {
                    self.log.event(level, source: source.name, "csv", fields)
                }
                let start = MonotonicClock.monotonicNanoseconds()
                let probe = HeadProbe { result in
                    var result = result
                    if let loginProblem, case .success = result { result = .failure(loginProblem) }
                    let duration = Int((MonotonicClock.monotonicNanoseconds() - start) / 1_000_000)
                    self.outcomes.append(
                        SourceOutcome(name: source.name, attempts: 1, durationMS: duration, result: result))
                    self.logCheck(source, result)
                    next()
                }
                probe.path = self.targetPath(for: source).full
                var headers = source.headers
                headers.add("Range", "bytes=0-0")
                self.client.request(source.url, headers: headers, delegate: probe)
            }
            next()
        }
    }

    private func logCheck(_ source: SourceConfig, _ result: Result<TransferResult, TransferFailure>) {
        switch result {
        case .success(let probe):
            log.event(
                .info, source: source.name, "checked",
                [
                    ("http_status", "\(probe.status)"), ("url", probe.finalURL), ("path", probe.path),
                ])
        case .failure(let failure):
            log.event(
                .error, source: source.name, "failed",
                [
                    ("class", failure.failureClass), ("reason", failure.reason),
                ])
        }
    }
}

/// Takes the head of a response and drops the rest.
final class HeadProbe: HTTPResponseDelegate {
    var path = ""
    private var status = 0
    private var refused: TransferFailure?
    private let done: (Result<TransferResult, TransferFailure>) -> Void

    init(done: @escaping (Result<TransferResult, TransferFailure>) -> Void) {
        self.done = done
    }

    func task(_ task: HTTPTask, didReceiveHead head: HTTPResponseHead) {
        status = head.status
        if head.headers["Content-Type"]?.lowercased().hasPrefix("text/html") == true {
            refused = TransferFailure(
                reason: "\(task.url.redacted) answered \(head.status) with text/html: not CSV", transient: false,
                retryAfter: nil)
        }
        task.cancel()
    }

    func task(_ task: HTTPTask, didReceive bytes: UnsafeRawBufferPointer) {}

    func task(_ task: HTTPTask, didFinish result: Result<HTTPResponseSummary, HTTPError>) {
        if let refused { return done(.failure(refused)) }
        switch result {
        case .failure(.cancelled) where status != 0, .success:
            done(
                .success(
                    TransferResult(
                        path: path, bytesIn: 0, bytesOut: 0, csv: nil, finalURL: task.url.redacted, status: status,
                        httpTLS: task.tlsVersion, ftpDataResumed: nil, sha256: "", warnings: [])))
        case .failure(let error):
            done(.failure(Transfer.classify(error)))
        }
    }
}
