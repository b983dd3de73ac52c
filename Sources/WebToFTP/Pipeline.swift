@_spi(Internals) import FTP
@_spi(Internals) import HTTP1
@_spi(Internals) import Reactor

/// One run of a config's sources, and the one way to start one: `web2ftp manual`, `web2ftp schedule` and
/// `Web2FTP.run` all make a pipeline, `start` it, and get its `RunSummary`. It applies `RunOptions.only`, cleans up
/// old leftovers, runs every source once — sequential or N at a time, each with retries and back-off, HTTP
/// connections and FTP logins reused across sources — removes what failed attempts left, logs each event and the
/// summary, and hands the summary back.
///
/// The parts: `FTPSessionPool` (logins), `RetryPolicy` (when to try again), `Cleanup` (temporary files before and
/// after), and a `Transfer` per attempt; the pipeline keeps the sources' queue and outcomes and moves through
/// `Phase`. The transfers are over once every source has its outcome; the run is over once the clean-up and then
/// the pool have said so.
///
/// Threads and lifetimes: a pipeline is bound to one event loop — made, started, cancelled and asked for progress on
/// that loop's thread (asserted), where all its callbacks run too. Ownership points down: the caller → the pipeline
/// → its parts, the HTTP client and each transfer under way → the transfer's HTTP task, upload and borrowed session.
/// The pipeline also holds itself from `start` until its completion has run, so a caller that lets go mid-run does
/// not end it unseen. Closures follow the capture rule stated above `ByteStream`: a transfer's completion captures
/// the pipeline `unowned` (the run ends only once every transfer, login and deletion has reported); one-shot
/// callbacks handed down (a login, QUIT, DELE, a retry timer) capture strongly; `weak` where an answer may come after
/// its asker ended for good (a login completing for an attempt that already failed: the transfer hands the session
/// straight back).
@_spi(Internals) public final class Pipeline {
    private enum Phase {
        case ready
        /// Old leftovers are removed before the first upload.
        case removingLeftovers
        /// Sources run (or, in a dry run, are checked) until every one has its outcome.
        case transferring
        case removingOrphans
        /// The HTTP client is closed and the pool's sessions quit.
        case closing
        case finished
    }

    private let loop: EventLoop
    /// The sources this run transfers: the config's, less those `only` leaves out.
    let sources: [SourceConfig]
    /// The names `only` left out, in config order.
    public let skipped: [String]
    private let ftp: FTPEnvironment
    private let options: RunOptions
    let log: RunLog
    private let runStart: LocalTime
    let client: HTTPClient
    /// Under `--trace`, where HTTP requests and response heads are reported.
    private let httpTrace: ProtocolTrace?
    let pool: FTPSessionPool
    private let cleanup: Cleanup
    private var phase = Phase.ready
    private var queue: [SourceConfig] = []
    private var running: [String: Transfer] = [:]
    /// Sources between attempts, and their back-off timers.
    private var waiting: [String: (source: SourceConfig, attempts: Int, start: UInt64, timer: TimerID)] = [:]
    var outcomes: [SourceOutcome] = []
    /// What the failed attempts of a source being retried received: counted in its failure's `bytesIn` should it fail.
    var receivedBefore: [String: UInt64] = [:]
    /// What a failed attempt left for its source's retry to resume from (its temporary file kept on the server).
    private var resumes: [String: ResumePoint] = [:]
    /// The source a dry run is probing now, and since when: shown as under way.
    var probing: (name: String, started: UInt64)?
    private(set) var cancelled: String?
    private var deadline: TimerID?
    private var completion: ((RunSummary) -> Void)?
    /// Held from `start` until the completion has run.
    private var keptAlive: Pipeline?
    private var started: (nanoseconds: UInt64, openFDs: Int?, dryRun: Bool) = (0, nil, false)
    /// The state file as the run found it (nil: no state file in use), and what this run's sources published.
    private var state: SyncState?
    var stateUpdates: [String: PublishedRecord] = [:]
    /// What this run's sources did, for the metrics (kept in the state file with the rest).
    var metricsUpdates: [String: SourceMetrics] = [:]
    /// Each source's fingerprint for this run, to record with what it published.
    var fingerprints: [String: String] = [:]

    /// Checks the sources as a set, the FTP side and the options (every problem listed), and applies
    /// `options.only` (an unknown name fails, listed with the others). On the loop's thread.
    public init(
        loop: EventLoop, sources: [SourceConfig], ftp: FTPEnvironment, options: RunOptions, log: RunLog,
        runStart: LocalTime
    ) throws(ConfigError) {
        loop.assertInLoop()
        // Again, as a whole: values built in code were checked one by one, and public fields may have changed since.
        let problems =
            SourceConfig.setProblems(sources, runStart: runStart) + sources.flatMap(\.problems) + ftp.problems
            + options.problems
        guard problems.isEmpty else { throw ConfigError(problems: problems) }
        (self.sources, skipped) = try Self.select(sources, only: options.only)
        self.loop = loop
        self.ftp = ftp
        self.options = options
        self.log = log
        self.runStart = runStart
        httpTrace = log.traceSink(protocol: "http", loop: loop)
        var http = HTTPClient.Configuration()
        http.tls = options.tls
        http.userAgent = Web2FTP.userAgent
        http.proxies = options.proxies
        http.trace = httpTrace
        client = HTTPClient(loop: loop, configuration: http)
        pool = FTPSessionPool(
            loop: loop, ftp: ftp, options: options, log: log, trace: log.traceSink(protocol: "ftp", loop: loop))
        cleanup = Cleanup(pool: pool, log: log)
        pool.onUnusable = { [unowned self] error in self.destinationFailed(error) }
    }

    /// The sources `only` names (all when it is empty), and the names of the others; an unknown name is an error.
    public static func select(
        _ sources: [SourceConfig], only: Set<String>
    ) throws(ConfigError) -> (run: [SourceConfig], skipped: [String]) {
        guard !only.isEmpty else { return (sources, []) }
        let unknown = only.filter { name in !sources.contains { $0.name == name } }.sorted()
        guard unknown.isEmpty else {
            throw ConfigError([
                "--only: no source named \(unknown.map { "\"\($0)\"" }.joined(separator: ", "))"
            ])
        }
        return (sources.filter { only.contains($0.name) }, sources.filter { !only.contains($0.name) }.map(\.name))
    }

    /// Runs (or with `dryRun`, checks: see `check`) every source once, logs the summary and hands it to
    /// `completion`. `trigger` names what started the run, for the log (schedule mode).
    public func start(dryRun: Bool = false, trigger: String? = nil, _ completion: @escaping (RunSummary) -> Void) {
        loop.assertInLoop()
        guard case .ready = phase else { preconditionFailure("a pipeline runs once") }
        self.completion = completion
        keptAlive = self
        started = (MonotonicClock.monotonicNanoseconds(), SystemInfo.openDescriptorCount, dryRun)
        var fields = trigger.map { [RunEvent.Field("trigger", .text($0))] } ?? []
        if let shard = options.shard { fields.append(.init("shard", .text(shard.label))) }
        fields += [
            .init("mode", .text(options.mode.rawValue)), .init("sources", .integer(Int64(sources.count))),
            .init("ftp_host", .text(ftp.host)), .init("ftp_target", .text(ftp.targetDirectory)),
            .init("version", .text(Web2FTP.version)),
        ]
        if !skipped.isEmpty { fields.append(.init("skipped", .text(skipped.joined(separator: ",")))) }
        log.event(.info, source: nil, "run", fields)
        if dryRun {
            phase = .transferring
            return check()
        }
        loadState()
        if options.tls.verification == .insecureNoVerification {
            log.event(.warning, source: nil, "insecure", [("detail", "TLS certificates are NOT verified (--insecure)")])
        }
        let directories = sources.reduce(into: [String]()) { list, source in
            let directory = targetPath(for: source).directory
            if !list.contains(directory) { list.append(directory) }
        }
        phase = .removingLeftovers
        queue = sources
        cleanup.removeLeftovers(in: directories) {
            self.phase = .transferring
            let slots = self.options.mode == .parallel ? max(1, self.options.workers) : 1
            for _ in 0..<slots { self.startNext() }
        }
    }

    /// Stops the run: waiting sources are dropped, transfers in flight aborted (their temporary files removed).
    /// Temporary files are deleted on the way out; a server too slow to confirm it does not hold the exit up for
    /// more than about ten seconds.
    public func cancel(_ reason: String) {
        loop.assertInLoop()
        guard isCancellable else { return }
        cancelled = reason
        pool.drain()
        cleanup.stop()
        let failure = TransferFailure(reason: reason, transient: false, retryAfter: nil)
        let now = MonotonicClock.monotonicNanoseconds()
        for source in queue { record(source, attempts: 0, start: now, .failure(failure)) }
        queue = []
        for (name, waiter) in waiting.sorted(by: { $0.key < $1.key }) {
            loop.cancelTimer(waiter.timer)
            dropResume(of: name)
            record(waiter.source, attempts: 0, start: now, .failure(failure))
        }
        waiting = [:]
        // Armed before the transfers are told: one that ends at once may finish the run, which disarms it.
        deadline = loop.scheduleTimer(afterMilliseconds: 10_000) {
            self.deadline = nil
            // Out of time first: a transfer closed now may end the run's last attempt, and the orphan clean-up that
            // follows must not start a new login.
            self.cleanup.timeIsUp()
            for transfer in self.running.values { transfer.forceClose() }
        }
        for transfer in running.values { transfer.cancel(reason) }
        advance()
    }

    /// The reason the sources cut short by a cancelled `Web2FTP.run` fail with.
    static let taskCancelledReason = "interrupted: the task awaiting the run was cancelled"

    /// A cancel would take effect: the run has started, is not closing yet, and was not cancelled before.
    var isCancellable: Bool {
        guard cancelled == nil else { return false }
        switch phase {
        case .ready, .closing, .finished: return false
        case .removingLeftovers, .transferring, .removingOrphans: return true
        }
    }

    /// What is under way now, and how far the run is.
    public var progress: RunProgress {
        loop.assertInLoop()
        let now = MonotonicClock.monotonicNanoseconds()
        var running = self.running.sorted { $0.key < $1.key }.map { name, transfer in
            TransferProgress(
                name: name, bytes: transfer.bytesReceived, total: transfer.expectedBytes,
                elapsedMS: Int((now - transfer.started) / 1_000_000))
        }
        if let probing {
            running.append(
                TransferProgress(
                    name: probing.name, bytes: 0, total: nil, elapsedMS: Int((now - probing.started) / 1_000_000)))
        }
        let stage: RunProgress.Stage
        switch phase {
        case .ready, .removingLeftovers: stage = .preparing
        case .transferring: stage = .transferring
        case .removingOrphans, .closing, .finished: stage = .finishing
        }
        let failed = outcomes.filter { if case .failure = $0.result { true } else { false } }.count
        let finishedBytes = outcomes.reduce(UInt64(0)) { total, outcome in
            switch outcome.result {
            case .success(let done): total + done.bytesIn
            case .failure(let failure): total + failure.bytesIn
            }
        }
        return RunProgress(
            stage: stage, running: running, waiting: waiting.keys.sorted(), done: outcomes.count, failed: failed,
            total: sources.count,
            bytes: finishedBytes + receivedBefore.values.reduce(0, +)
                + running.reduce(0) { $0 + $1.bytes },
            elapsedMS: started.nanoseconds == 0 ? 0 : Int((now - started.nanoseconds) / 1_000_000))
    }

    /// Reads the state file: missing is a first run, corrupt a full run (said, never a failure).
    private func loadState() {
        guard let path = options.statePath else { return }
        switch SyncStateFile.load(path) {
        case .found(let found):
            state = found
        case .missing:
            state = SyncState()
            log.event(
                .info, source: nil, "state",
                [("path", path), ("detail", "no state file yet: every source is published")])
        case .corrupt(let reason):
            state = SyncState()
            log.event(
                .warning, source: nil, "state",
                [("path", path), ("detail", "unreadable state file (\(reason)): every source is published")])
        }
    }

    /// The state after the run, written (temporary file, fsync, rename) when a state file is in use; returned either
    /// way, for the metrics (without a state file they know this run's sources only).
    private func saveState() -> SyncState {
        let next = SyncState.merged(
            state ?? SyncState(), configNames: sources.map(\.name) + skipped, updates: stateUpdates,
            metrics: metricsUpdates)
        guard let path = options.statePath, state != nil else { return next }
        do {
            try SyncStateFile.write(next, to: path)
        } catch {
            log.event(.warning, source: nil, "state_write_failed", [("path", path), ("reason", "\(error)")])
        }
        return next
    }

    /// A source's metrics as the state file had them before this run.
    func previousMetrics(_ name: String) -> SourceMetrics? { state?.metrics[name] }

    /// What a source is, for the state file: another fingerprint, another publication.
    func fingerprint(for source: SourceConfig) -> String {
        let port = ftp.port.map { "\($0)" } ?? "default-\(ftp.security)"
        return SyncState.fingerprint(
            url: source.url,
            settings: source.settingsText
                ?? "\(source.csv)|\(source.compression)|\(source.outputCompression)",
            targetPath: targetPath(for: source).full, ftpHost: ftp.host, ftpPort: port, ftpUser: ftp.user,
            ftpTarget: ftp.targetDirectory, headers: source.headers)
    }

    /// The full remote path a source's file gets.
    func targetPath(for source: SourceConfig) -> TargetPath {
        TargetPath(source, under: ftp.targetDirectory, at: runStart)
    }

    // MARK: sources

    private func startNext() {
        guard cancelled == nil, !queue.isEmpty else { return advance() }
        let source = queue.removeFirst()
        log.event(.info, source: source.name, "start", [("url", source.url.redacted)])
        for (level, fields) in CSVReport.notes(source.csv) { log.event(level, source: source.name, "csv", fields) }
        attempt(source, number: 1, start: MonotonicClock.monotonicNanoseconds())
    }

    private func attempt(_ source: SourceConfig, number: Int, start: UInt64) {
        let policy = RetryPolicy(options: options, source: source)
        log.event(.info, source: source.name, "attempt \(number)/\(policy.attempts)")
        let path = targetPath(for: source)
        var prior: PublishedRecord?
        if let state {
            let fingerprint = fingerprint(for: source)
            fingerprints[source.name] = fingerprint
            if !options.force, source.skipUnchanged, let record = state.sources[source.name],
                record.fingerprint == fingerprint
            {
                prior = record
            }
        }
        let transfer = Transfer(
            source: source, directory: path.directory, name: path.name, client: client, prior: prior,
            resume: resumes.removeValue(forKey: source.name), acquireSession: pool.acquire,
            releaseSession: pool.release,
            completion: { [unowned self] result in
                let kept = self.running.removeValue(forKey: source.name)?.kept
                var result = result
                if case .success(let done) = result, let orphan = done.orphan { self.cleanup.noteOrphan(orphan) }
                if case .failure(let failure) = result {
                    if let orphan = failure.orphan { self.cleanup.noteOrphan(orphan) }
                    if let dead = self.pool.unusable { result = .failure(Self.destinationFailure(dead)) }
                }
                guard case .failure(let failure) = result, self.cancelled == nil, !failure.destinationUnusable,
                    case .retry(let delay) = policy.decide(after: number, failure)
                else {
                    // No retry will resume it: the kept temporary file goes with the run's clean-up.
                    if let kept { self.cleanup.noteOrphan(kept.temporaryPath) }
                    self.record(source, attempts: number, start: start, result)
                    return self.startNext()
                }
                self.receivedBefore[source.name, default: 0] += failure.bytesIn
                var fields: [RunEvent.Field] = [
                    .init("delay", .text("\(delay)ms")), .init("reason", .text(failure.reason)),
                ]
                if let kept {
                    self.resumes[source.name] = kept
                    fields.append(.init("resume_from", .integer(Int64(kept.expectedOffset))))
                }
                self.log.event(.warning, source: source.name, "retry", fields)
                let timer = self.loop.scheduleTimer(afterMilliseconds: delay) {
                    self.waiting[source.name] = nil
                    self.attempt(source, number: number + 1, start: start)
                }
                self.waiting[source.name] = (source, number, start, timer)
            })
        let log = self.log
        transfer.onCSVWarning = { warning in log.event(.warning, source: source.name, "csv", [("detail", warning)]) }
        transfer.onWarning = { event, detail in log.event(.warning, source: source.name, event, [("detail", detail)]) }
        running[source.name] = transfer
        transfer.start()
    }

    /// A source waiting for its retry gets none: the temporary file it kept goes with the run's clean-up.
    private func dropResume(of name: String) {
        if let point = resumes.removeValue(forKey: name) { cleanup.noteOrphan(point.temporaryPath) }
    }

    /// The FTP destination is unusable (see `FTPLoginGate`): every source without an outcome fails now with that
    /// reason, and none is tried again. No upload can be under way: no login has succeeded.
    private func destinationFailed(_ error: FTPError) {
        let failure = Self.destinationFailure(error)
        let now = MonotonicClock.monotonicNanoseconds()
        for source in queue { record(source, attempts: 0, start: now, .failure(failure)) }
        queue = []
        for (name, waiter) in waiting.sorted(by: { $0.key < $1.key }) {
            loop.cancelTimer(waiter.timer)
            dropResume(of: name)
            record(waiter.source, attempts: waiter.attempts, start: waiter.start, .failure(failure))
        }
        waiting = [:]
        for transfer in running.values { transfer.cancel(failure.reason) }
        advance()
    }

    static func destinationFailure(_ error: FTPError) -> TransferFailure {
        var failure = TransferFailure(
            reason: "the FTP destination is unusable: \(error)", transient: false, retryAfter: nil)
        failure.destinationUnusable = true
        return failure
    }

    /// Every source has its outcome: the run goes on to its clean-up, then closes.
    func advance() {
        guard case .transferring = phase, outcomes.count == sources.count else { return }
        phase = .removingOrphans
        cleanup.removeOrphans {
            self.phase = .closing
            self.client.close()
            self.pool.close { self.finish() }
        }
    }

    private func finish() {
        phase = .finished
        if let deadline { loop.cancelTimer(deadline) }
        deadline = nil
        var summary = RunSummary(
            outcomes: outcomes, wallMS: Int((MonotonicClock.monotonicNanoseconds() - started.nanoseconds) / 1_000_000),
            ftpHost: ftp.host, ftpTarget: ftp.targetDirectory, started: runStart.iso8601)
        summary.shard = options.shard?.label
        if let before = started.openFDs, let now = SystemInfo.openDescriptorCount {
            summary.process = RunSummary.ProcessFigures(
                openFDsAtStart: before, openFDsAtEnd: now, peakResidentKiB: SystemInfo.peakResidentKiB)
        }
        if !started.dryRun {
            let saved = saveState()
            summary.metrics = RunMetrics(
                finishedMS: MonotonicClock.unixMilliseconds(), wallMS: summary.wallMS,
                counts: RunMetrics.counts(outcomes, skipped: skipped.count), version: Web2FTP.version,
                shard: options.shard, sources: saved.metrics)
        }
        logSummary(summary, dryRun: started.dryRun)
        let completion = self.completion
        self.completion = nil
        defer { keptAlive = nil }
        completion?(summary)
    }
}
