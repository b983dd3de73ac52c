@_spi(Internals) import CSVStream
@_spi(Internals) import Compression
@_spi(Internals) import HTTP1
@_spi(Internals) import Reactor

extension Pipeline {
    /// `--dry-run`: checks everything a run needs without transferring anything — the FTP login (with TLS), and for
    /// each source a ranged GET that must answer 2xx and not `text/html`: the head alone (`Range: bytes=0-0`), or
    /// for a source with a transform the first 64 KiB run through it (see `SampleProbe`). Outcomes are reported like a run's, the path being where the file would go.
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
                self.probing = (source.name, start)
                let probe = SampleProbe(source: source) { result in
                    self.probing = nil
                    var result = result
                    if let loginProblem, case .success = result { result = .failure(loginProblem) }
                    let duration = Int((MonotonicClock.monotonicNanoseconds() - start) / 1_000_000)
                    self.outcomes.append(
                        SourceOutcome(name: source.name, attempts: 1, durationMS: duration, result: result))
                    self.logCheck(source, result)
                    next()
                }
                probe.path = self.targetPath(for: source).full
                let log = self.log
                probe.onCSVWarning = { log.event(.warning, source: source.name, "csv", [("detail", $0)]) }
                var headers = source.headers
                headers.add("Range", probe.range)
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
                    .init("http_status", .integer(Int64(probe.status))), .init("url", .text(probe.finalURL)),
                    .init("path", .text(probe.path)),
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

/// Takes the head of a response and, when the source has a transform, the first 64 KiB of its body, and runs the
/// transform over them: a missing `usecols` column or a wrong encoding fails the dry run as it would fail the run.
/// A sample cut short drops its last, partial row (its bytes are pushed up to the last line end and never finished).
final class SampleProbe: HTTPResponseDelegate {
    static let sampleBytes = 64 * 1024

    var path = ""
    /// Hears the transform's warnings on the sample.
    var onCSVWarning: ((String) -> Void)?
    private let transformer: CSVTransformer?
    private var status = 0
    private var refused: TransferFailure?
    private var sample: [UInt8] = []
    /// The sample is the whole body: a 206 whose Content-Range reaches the end.
    private var rangeIsWhole = false
    private let done: (Result<TransferResult, TransferFailure>) -> Void
    /// The file's compression (PARAMS `compression`): the sample is decompressed before the transform sees it. The
    /// request stays identity (it carries a Range), so there is no content coding to undo.
    private var compression: (method: CompressionMethod, inferred: Bool)?

    init(source: SourceConfig, done: @escaping (Result<TransferResult, TransferFailure>) -> Void) {
        transformer = source.csv.isPassthrough ? nil : CSVTransformer(options: source.csv)
        compression = try? CompressionRule.expected(source.compression, urlPath: source.url.path)
        self.done = done
    }

    /// The Range to ask for: the head is enough without a transform.
    var range: String { transformer == nil ? "bytes=0-0" : "bytes=0-\(Self.sampleBytes - 1)" }

    func task(_ task: HTTPTask, didReceiveHead head: HTTPResponseHead) {
        status = head.status
        if head.headers["Content-Type"]?.lowercased().hasPrefix("text/html") == true {
            refused = TransferFailure(
                reason: "\(task.url.redacted) answered \(head.status) with text/html: not CSV", transient: false,
                retryAfter: nil)
            return task.cancel()
        }
        guard transformer != nil else { return task.cancel() }
        if head.status == 206, let range = head.headers["Content-Range"] { rangeIsWhole = Self.reachesEnd(range) }
    }

    func task(_ task: HTTPTask, didReceive bytes: UnsafeRawBufferPointer) {
        sample.append(contentsOf: bytes.prefix(Self.sampleBytes - sample.count))
        if sample.count >= Self.sampleBytes { task.cancel() }
    }

    func task(_ task: HTTPTask, didFinish result: Result<HTTPResponseSummary, HTTPError>) {
        // A failed source's sample counts in bytes_down too, as a real run counts what a failed source received.
        func fail(_ failure: TransferFailure) {
            var failure = failure
            failure.bytesIn = UInt64(sample.count)
            done(.failure(failure))
        }
        if let refused { return fail(refused) }
        switch result {
        case .failure(.cancelled) where status != 0, .success:
            let whole: Bool
            if case .success = result { whole = status != 206 || rangeIsWhole } else { whole = false }
            if let problem = checkSample(whole: whole) { return fail(problem) }
            done(
                .success(
                    TransferResult(
                        path: path, bytesIn: UInt64(sample.count), bytesOut: 0, csv: nil, finalURL: task.url.redacted,
                        status: status, httpTLS: task.tlsVersion, ftpDataResumed: nil, sha256: "", warnings: [])))
        case .failure(let error):
            fail(Transfer.classify(error))
        }
    }

    /// The sample as the transform would see it: decompressed (a prefix of the file, unless `whole`).
    private func decodedSample(whole: Bool) throws(CompressionError) -> [UInt8] {
        guard let compression else { return sample }
        let pump = try DecodePump(
            contentCodings: [], file: compression.method, inferred: compression.inferred, maxBytes: 1 << 30)
        var decoded: [UInt8] = []
        // 64 KiB of gzip may inflate a thousandfold: 1 MiB of it is sample enough.
        let cap = 1 << 20
        var capped = false
        let emit: DecodePump.Emit = { piece in
            let room = cap - decoded.count
            if piece.count > room { capped = true }
            decoded += piece.prefix(room)
            return true
        }
        let pushed: Result<Void, CompressionError> = sample.withUnsafeBytes { bytes in
            do throws(CompressionError) {
                try pump.push(bytes, emit: emit)
                return .success(())
            } catch {
                return .failure(error)
            }
        }
        try pushed.get()
        do {
            try pump.finish(emit: emit)
        } catch  where !whole && error.isTruncation {
            // A prefix of a compressed file ends early by design.
        }
        sampleCapped = capped
        return decoded
    }

    /// Whether the decoded sample is the whole file (its compressed form came whole and was not capped).
    private var sampleCapped = false

    private func checkSample(whole: Bool) -> TransferFailure? {
        guard let transformer else { return nil }
        let sample: [UInt8]
        do {
            sample = try decodedSample(whole: whole)
        } catch {
            return TransferFailure(reason: error.message, transient: error.isTruncation, retryAfter: nil)
        }
        var output: [UInt8] = []
        defer { for warning in transformer.warnings { onCSVWarning?(warning) } }
        do {
            if whole && !sampleCapped {
                try transformer.push(sample, into: &output)
                try transformer.finish(into: &output)
            } else if let end = sample.lastIndex(of: UInt8(ascii: "\n")) {
                try transformer.push(sample[...end], into: &output)
            }
            return nil
        } catch {
            return TransferFailure(reason: "CSV: \(error.message)", transient: false, retryAfter: nil)
        }
    }

    /// `bytes 0-99/100`: the range ends where the body does.
    static func reachesEnd(_ contentRange: String) -> Bool {
        let parts = contentRange.split(separator: "/")
        guard parts.count == 2, let total = Int(parts[1]),
            let last = parts[0].split(separator: "-").last.flatMap({
                Int($0)
            })
        else { return false }
        return last + 1 >= total
    }
}
