import CSVStream
import FTP
import HTTP1
import Reactor
import TLS

/// How a run goes: everything that is not per source.
public struct RunOptions: Sendable {
    public enum Mode: String, Sendable {
        case sequential
        case parallel
    }

    public var mode = Mode.sequential
    public var workers = 4
    /// Retries after the first attempt, unless a source says otherwise (RETRIES).
    public var retries = 2
    public var retryBaseMS = 1_000
    public var retryCapMS = 60_000
    public var tls = TLSConfiguration()
    public var trustPassiveAddress = false
    /// One limit for the FTP server to connect, answer a command, or take data; nil keeps the session's defaults
    /// (15 s, 30 s, 60 s).
    public var ftpTimeoutMS: Int?
    public var proxies = ProxySettings()
    public var only: Set<String> = []

    public init() {}
}

/// One transfer under way, for progress displays.
public struct TransferProgress: Sendable {
    public var name: String
    public var bytes: UInt64
    /// The announced size, when the server gave one.
    public var total: UInt64?
    public var elapsedMS: Int
}

/// How one source ended.
public struct SourceOutcome: Sendable {
    public var name: String
    public var attempts: Int
    public var durationMS: Int
    public var result: Result<TransferResult, TransferFailure>
}

/// Runs every source once on an event loop: sequential or N at a time, each with retries and back-off, HTTP
/// connections and FTP logins reused across sources. Logs each event; hands back every source's outcome.
public final class Pipeline {
    private let loop: EventLoop
    private let sources: [SourceConfig]
    private let ftp: FTPEnvironment
    private let options: RunOptions
    let log: RunLog
    private let runStart: LocalTime
    private let client: HTTPClient
    var httpClient: HTTPClient { client }
    var sourceList: [SourceConfig] { sources }
    private var context: TLSContext?
    private var queue: [SourceConfig]
    private var running: [String: Transfer] = [:]
    private var waiting: [String: TimerID] = [:]
    private var outcomes: [SourceOutcome] = []
    private var idleSessions: [FTPSession] = []
    private var orphans: [String] = []
    /// Temporary files being deleted at the end of the run, and the session doing it once it has one.
    private var cleaning: (paths: [String], session: FTPSession?)?
    /// An interrupted run's time for cleaning up is over: what is left is reported, not deleted.
    private var outOfTime = false
    /// FTP logins under way.
    private var connecting = 0
    private var completion: (([SourceOutcome]) -> Void)?
    private var cancelled: String?
    private var warnedSessions = false

    public init(
        loop: EventLoop, sources: [SourceConfig], ftp: FTPEnvironment, options: RunOptions, log: RunLog,
        runStart: LocalTime
    ) {
        self.loop = loop
        self.sources = sources
        self.ftp = ftp
        self.options = options
        self.log = log
        self.runStart = runStart
        var http = HTTPClient.Configuration()
        http.tls = options.tls
        http.userAgent = WebToFTP.userAgent
        http.proxies = options.proxies
        client = HTTPClient(loop: loop, configuration: http)
        queue = sources
    }

    public func run(_ completion: @escaping ([SourceOutcome]) -> Void) {
        self.completion = completion
        if options.tls.verification == .insecureNoVerification {
            log.event(.warning, source: nil, "insecure", [("detail", "TLS certificates are NOT verified (--insecure)")])
        }
        let directories = sources.reduce(into: [String]()) { list, source in
            let directory = targetDirectory(for: source)
            if !list.contains(directory) { list.append(directory) }
        }
        cleanLeftovers(directories[...]) {
            let slots = self.options.mode == .parallel ? max(1, self.options.workers) : 1
            for _ in 0..<slots { self.startNext() }
            if self.sources.isEmpty { self.finishIfDone() }
        }
    }

    /// The full remote path a source's file gets.
    func targetPath(for source: SourceConfig) -> String {
        let rendered = TargetTemplate.render(source.target, name: source.name, time: runStart)
        let name = rendered.split(separator: "/").last.map(String.init) ?? rendered
        return FTPPublishPlan.join(targetDirectory(for: source), name)
    }

    /// For the dry run: logs in once; `done` gets the login problem, if any (then every source reports it).
    func acquireSessionForCheck(_ done: @escaping (TransferFailure?) -> Void) {
        acquireSession { [weak self] result in
            switch result {
            case .success(let session):
                self?.releaseSession(session)
                done(nil)
            case .failure(let error):
                self?.log.event(.error, source: nil, "ftp_login", [("reason", "\(error)")])
                done(Transfer.classify(error))
            }
        }
    }

    func finishCheck(_ outcomes: [SourceOutcome], _ completion: @escaping ([SourceOutcome]) -> Void) {
        queue = []  // nothing is transferred in a dry run
        self.outcomes = outcomes
        self.completion = completion
        finishIfDone()
    }

    /// Where a source's file goes: FTPTARGET plus the directories of its TARGET template.
    private func targetDirectory(for source: SourceConfig) -> String {
        let rendered = TargetTemplate.render(source.target, name: source.name, time: runStart)
        var directory = ftp.targetDirectory
        for sub in rendered.split(separator: "/").dropLast() { directory = FTPPublishPlan.join(directory, String(sub)) }
        return directory
    }

    /// Before the first upload: our own leftovers older than a day go from each target directory (a crashed run's
    /// temporary files; a backup whose swap was interrupted is put back). Newer ones may belong to a run going on.
    private func cleanLeftovers(_ directories: ArraySlice<String>, then: @escaping () -> Void) {
        guard !directories.isEmpty, cancelled == nil else { return then() }
        acquireSession { [weak self] result in
            guard let self else { return }
            guard case .success(let session) = result else {
                // The uploads will each report the login failure.
                return then()
            }
            var remaining = directories
            func next() {
                guard let directory = remaining.popFirst(), self.cancelled == nil else {
                    self.releaseSession(session)
                    return then()
                }
                session.removeLeftovers(in: directory) { result in
                    switch result {
                    case .success(let steps) where !steps.isEmpty:
                        let restored = steps.filter { if case .restore = $0 { true } else { false } }.count
                        self.log.event(
                            .info, source: nil, "leftovers",
                            [
                                ("directory", directory), ("deleted", "\(steps.count - restored)"),
                                ("restored", "\(restored)"),
                            ])
                    case .success:
                        break
                    case .failure(let error):
                        self.log.event(
                            .warning, source: nil, "leftovers", [("directory", directory), ("reason", "\(error)")])
                    }
                    next()
                }
            }
            next()
        }
    }

    /// Stops the run: waiting sources are dropped, transfers in flight aborted (their temporary files removed).
    public func cancel(_ reason: String) {
        guard cancelled == nil else { return }
        cancelled = reason
        for source in queue {
            record(
                source, attempts: 0, start: Clock.monotonicNanoseconds(),
                .failure(TransferFailure(reason: reason, transient: false, retryAfter: nil)))
        }
        queue = []
        for (name, timer) in waiting {
            loop.cancelTimer(timer)
            if let source = sources.first(where: { $0.name == name }) {
                record(
                    source, attempts: 0, start: Clock.monotonicNanoseconds(),
                    .failure(TransferFailure(reason: reason, transient: false, retryAfter: nil)))
            }
        }
        waiting = [:]
        for transfer in running.values { transfer.cancel(reason) }
        // Temporary files are deleted on the way out; a server too slow to confirm it does not hold the exit up
        // for more than about ten seconds.
        loop.scheduleTimer(afterMilliseconds: 10_000) { [weak self] in
            guard let self, self.completion != nil else { return }
            self.outOfTime = true
            for transfer in self.running.values { transfer.forceClose() }
            self.abandonCleanup("interrupted, and the server did not confirm the deletion in time")
        }
    }

    /// What is under way now, and how far the run is.
    public var progress: (running: [TransferProgress], done: Int, total: Int) {
        let now = Clock.monotonicNanoseconds()
        let running = self.running.sorted { $0.key < $1.key }.map { name, transfer in
            TransferProgress(
                name: name, bytes: transfer.bytesReceived, total: transfer.expectedBytes,
                elapsedMS: Int((now - transfer.started) / 1_000_000))
        }
        return (running, outcomes.count, sources.count)
    }

    // MARK: sources

    private func startNext() {
        guard cancelled == nil, !queue.isEmpty else { return finishIfDone() }
        let source = queue.removeFirst()
        log.event(.info, source: source.name, "start", [("url", source.url.redacted)])
        for (level, fields) in CSVReport.notes(source.csv) { log.event(level, source: source.name, "csv", fields) }
        attempt(source, number: 1, start: Clock.monotonicNanoseconds())
    }

    private func attempt(_ source: SourceConfig, number: Int, start: UInt64) {
        let total = 1 + (source.retries ?? options.retries)
        log.event(.info, source: source.name, "attempt \(number)/\(total)")
        let rendered = TargetTemplate.render(source.target, name: source.name, time: runStart)
        let transfer = Transfer(
            source: source, directory: targetDirectory(for: source),
            name: rendered.split(separator: "/").last.map(String.init) ?? rendered, client: client,
            acquireSession: { [weak self] done in self?.acquireSession(done) },
            releaseSession: { [weak self] session in self?.releaseSession(session) },
            completion: { [weak self] result in
                guard let self else { return }
                self.running[source.name] = nil
                switch result {
                case .success:
                    self.record(source, attempts: number, start: start, result)
                    self.startNext()
                case .failure(let failure):
                    if let orphan = failure.orphan { self.orphans.append(orphan) }
                    if failure.transient && number < total && self.cancelled == nil {
                        let delay = self.backoff(attempt: number, retryAfter: failure.retryAfter)
                        self.log.event(
                            .warning, source: source.name, "retry",
                            [
                                ("delay", "\(delay)ms"), ("reason", failure.reason),
                            ])
                        self.waiting[source.name] = self.loop.scheduleTimer(afterMilliseconds: delay) {
                            self.waiting[source.name] = nil
                            self.attempt(source, number: number + 1, start: start)
                        }
                    } else {
                        self.record(source, attempts: number, start: start, result)
                        self.startNext()
                    }
                }
            })
        transfer.onCSVWarning = { [weak self] warning in
            self?.log.event(.warning, source: source.name, "csv", [("detail", warning)])
        }
        running[source.name] = transfer
        transfer.start()
    }

    /// Exponential back-off with full jitter, capped; a server's Retry-After wins when longer (up to the cap).
    func backoff(attempt: Int, retryAfter: Int64?) -> Int {
        let exponential = min(options.retryCapMS, options.retryBaseMS << min(attempt - 1, 20))
        let jittered = exponential / 2 + Int.random(in: 0...max(0, exponential / 2))
        if let retryAfter {
            return min(options.retryCapMS, max(jittered, Int(min(retryAfter, 86_400)) * 1000))
        }
        return jittered
    }

    private func record(
        _ source: SourceConfig, attempts: Int, start: UInt64, _ result: Result<TransferResult, TransferFailure>
    ) {
        let duration = Int((Clock.monotonicNanoseconds() - start) / 1_000_000)
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
                    ("class", failure.transient ? "transient" : "permanent"), ("attempts", "\(attempts)"),
                    ("reason", failure.reason),
                ])
        }
    }

    private func finishIfDone() {
        // A login still under way would outlive the run (an attempt that failed while its session was connecting).
        guard queue.isEmpty, running.isEmpty, waiting.isEmpty, connecting == 0, let completion else { return }
        // Interrupted runs clean up too (bounded by the time `cancel` allows): an interrupt is when a temporary file
        // is most likely left, its session cut mid-transfer.
        if !orphans.isEmpty && !outOfTime { return removeOrphans() }
        if cleaning != nil { return }
        if !orphans.isEmpty {
            reportLeft(orphans, reason: "interrupted, and out of time for the clean-up")
            orphans = []
        }
        self.completion = nil
        client.close()
        let sessions = idleSessions
        idleSessions = []
        var left = sessions.count
        guard left > 0 else { return completion(outcomes) }
        for session in sessions {
            session.quit {
                left -= 1
                if left == 0 { completion(self.outcomes) }
            }
        }
    }

    /// Temporary files of failed attempts whose own clean-up could not be confirmed (a connection lost mid-publish)
    /// go now, over a working session, before the run ends: a retry that published leaves nothing behind either.
    private func removeOrphans() {
        let paths = orphans
        orphans = []
        cleaning = (paths, nil)
        acquireSession { [weak self] result in
            guard let self, self.cleaning != nil else {
                if case .success(let late) = result { late.close() }
                return
            }
            switch result {
            case .success(let session):
                self.cleaning?.session = session
                session.deleteFiles(paths) { deleted in
                    self.cleaning = nil
                    self.log.event(
                        .info, source: nil, "cleanup",
                        [
                            ("temporary_files_deleted", "\(deleted.count)"), ("checked", "\(paths.count)"),
                        ])
                    self.releaseSession(session)
                    self.finishIfDone()
                }
            case .failure(let error):
                self.abandonCleanup("\(error)")
            }
        }
    }

    /// The clean-up cannot be done (no session, or an interrupted run out of time): say which files remain, then
    /// end the run.
    private func abandonCleanup(_ reason: String) {
        guard let (paths, session) = cleaning else { return }
        cleaning = nil
        session?.close()
        reportLeft(paths, reason: reason)
        finishIfDone()
    }

    private func reportLeft(_ paths: [String], reason: String) {
        log.event(
            .warning, source: nil, "cleanup", [("reason", reason), ("temporary_files", paths.joined(separator: " "))])
    }

    // MARK: FTP sessions

    private func acquireSession(_ done: @escaping (Result<FTPSession, FTPError>) -> Void) {
        while let session = idleSessions.popLast() {
            if session.isUsable { return done(.success(session)) }
            session.close()
        }
        var configuration = FTPSession.Configuration(
            host: ftp.host, port: ftp.port, user: ftp.user, password: ftp.password)
        configuration.security = ftp.security
        configuration.tls = options.tls
        configuration.trustPassiveAddress = options.trustPassiveAddress
        if let timeout = options.ftpTimeoutMS {
            configuration.connectTimeoutMS = timeout
            configuration.replyTimeoutMS = timeout
            configuration.dataIdleTimeoutMS = timeout
        }
        if context == nil && ftp.security != .none { context = try? TLSContext(options.tls) }
        connecting += 1
        FTPSession.connect(loop: loop, configuration: configuration, context: context) { [weak self] result in
            guard let self else {
                if case .success(let session) = result { session.close() }
                return
            }
            self.connecting -= 1
            // Whoever asked may be gone (its attempt failed meanwhile) and hand the session straight back; the run
            // may have been waiting only for this login to end.
            defer { self.finishIfDone() }
            if case .success(let session) = result {
                if !self.warnedSessions {
                    self.warnedSessions = true
                    for warning in session.warnings {
                        self.log.event(.warning, source: nil, "ftp", [("detail", warning)])
                    }
                    self.log.event(
                        .info, source: nil, "ftp_login",
                        [
                            ("host", self.ftp.host), ("tls", session.tlsVersion ?? "none"),
                        ])
                }
            }
            done(result)
        }
    }

    private func releaseSession(_ session: FTPSession) {
        if session.isUsable && cancelled == nil {
            idleSessions.append(session)
        } else {
            session.close()
        }
    }
}
