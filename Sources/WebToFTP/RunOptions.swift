@_spi(Internals) import FTP
@_spi(Internals) import HTTP1
@_spi(Internals) import TLS

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
    /// The sources to run, by name; empty runs them all. Applied by the run itself (`Pipeline.select`), which names
    /// the sources it skipped.
    public var only: Set<String> = []
    /// The state file (see the README): where each source's last publication is recorded, so that a source that
    /// has not changed is not uploaded again. nil (the library's default): no state, every source published.
    public var statePath: String?
    /// Publish every source even when the state file says it has not changed (`--force`).
    public var force = false
    /// The shard this run is (`--shard K/N`), for the log and the summary; the caller passes the shard's sources.
    @_spi(Internals) public var shard: Shard?

    public init() {}

    /// Options built in code, checked: every problem listed.
    public init(
        mode: Mode = .sequential, workers: Int = 4, retries: Int = 2, retryBaseMS: Int = 1_000,
        retryCapMS: Int = 60_000, tls: TLSConfiguration = TLSConfiguration(), trustPassiveAddress: Bool = false,
        ftpTimeoutMS: Int? = nil, proxies: ProxySettings = ProxySettings(), only: Set<String> = []
    ) throws(ConfigError) {
        self.mode = mode
        self.workers = workers
        self.retries = retries
        self.retryBaseMS = retryBaseMS
        self.retryCapMS = retryCapMS
        self.tls = tls
        self.trustPassiveAddress = trustPassiveAddress
        self.ftpTimeoutMS = ftpTimeoutMS
        self.proxies = proxies
        self.only = only
        let problems = self.problems
        guard problems.isEmpty else { throw ConfigError(problems: problems) }
    }

    /// Values no run can honour.
    var problems: [ConfigProblem] {
        var problems: [String] = []
        if workers < 1 { problems.append("workers must be at least 1, got \(workers)") }
        if !(0...100).contains(retries) { problems.append("retries must be from 0 to 100, got \(retries)") }
        if retryBaseMS < 0 { problems.append("retryBaseMS must be ≥ 0, got \(retryBaseMS)") }
        if retryCapMS < retryBaseMS { problems.append("retryCapMS must be ≥ retryBaseMS, got \(retryCapMS)") }
        if let timeout = ftpTimeoutMS, timeout <= 0 { problems.append("ftpTimeoutMS must be > 0, got \(timeout)") }
        return problems.map { ConfigProblem(source: nil, key: nil, $0) }
    }
}

/// One transfer under way, for progress displays.
@_spi(Internals) public struct TransferProgress: Sendable {
    public var name: String
    public var bytes: UInt64
    /// The announced size, when the server gave one.
    public var total: UInt64?
    public var elapsedMS: Int

    public init(name: String, bytes: UInt64, total: UInt64?, elapsedMS: Int) {
        self.name = name
        self.bytes = bytes
        self.total = total
        self.elapsedMS = elapsedMS
    }
}

/// How a run is going, for a live display: what is under way, what waits for a retry, and the totals so far.
@_spi(Internals) public struct RunProgress: Sendable {
    public enum Stage: Sendable {
        /// Before the first transfer: the first FTP login, the clean-up of old leftovers.
        case preparing
        case transferring
        /// Every source has its outcome: temporary files of failed attempts are removed, the sessions quit.
        case finishing
    }

    public var stage: Stage
    /// Transfers under way (a dry run's probe too), by name.
    public var running: [TransferProgress]
    /// Sources waiting for their next attempt (back-off), by name.
    public var waiting: [String]
    /// Sources with an outcome, and how many of those failed.
    public var done: Int
    public var failed: Int
    public var total: Int
    /// Body bytes received so far: finished sources, failed attempts, transfers under way.
    public var bytes: UInt64
    /// Since the run started.
    public var elapsedMS: Int

    public init(
        stage: Stage, running: [TransferProgress], waiting: [String], done: Int, failed: Int, total: Int,
        bytes: UInt64, elapsedMS: Int
    ) {
        self.stage = stage
        self.running = running
        self.waiting = waiting
        self.done = done
        self.failed = failed
        self.total = total
        self.bytes = bytes
        self.elapsedMS = elapsedMS
    }
}

/// How one source ended.
public struct SourceOutcome: Sendable {
    public var name: String
    public var attempts: Int
    public var durationMS: Int
    public var result: Result<TransferResult, TransferFailure>
}
