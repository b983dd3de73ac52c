/// Whether a failed attempt is tried again, and after how long. Pure: the jitter is a parameter, so that tests give
/// the exact delay for every case.
struct RetryPolicy {
    enum Decision: Equatable {
        case retry(afterMS: Int)
        case giveUp
    }

    /// Retries after the first attempt.
    let retries: Int
    let baseMS: Int
    let capMS: Int
    /// A whole number from 0 through its argument: random in a run, fixed in tests.
    let jitter: (Int) -> Int

    init(retries: Int, baseMS: Int, capMS: Int, jitter: @escaping (Int) -> Int = { Int.random(in: 0...$0) }) {
        self.retries = retries
        self.baseMS = baseMS
        self.capMS = capMS
        self.jitter = jitter
    }

    /// The source's RETRIES when it has one, else the run's.
    init(options: RunOptions, source: SourceConfig) {
        self.init(retries: source.retries ?? options.retries, baseMS: options.retryBaseMS, capMS: options.retryCapMS)
    }

    var attempts: Int { 1 + retries }

    /// After attempt `attempt` (from 1) failed with `failure`: permanent failures and the last attempt give up.
    func decide(after attempt: Int, _ failure: TransferFailure) -> Decision {
        guard failure.transient, attempt < attempts else { return .giveUp }
        return .retry(afterMS: delay(after: attempt, retryAfter: failure.retryAfter))
    }

    /// Exponential back-off with jitter over its upper half (so a retry never comes at once), capped; a server's
    /// Retry-After (seconds) wins when longer, up to the cap.
    func delay(after attempt: Int, retryAfter: Int64?) -> Int {
        let exponential = min(capMS, baseMS << min(attempt - 1, 20))
        let jittered = exponential / 2 + jitter(max(0, exponential / 2))
        guard let retryAfter else { return jittered }
        return min(capMS, max(jittered, Int(min(retryAfter, 86_400)) * 1000))
    }
}
