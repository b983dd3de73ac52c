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
