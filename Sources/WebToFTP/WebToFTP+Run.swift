import Reactor

extension WebToFTP {
    /// Runs `sources` once, as `web2ftp manual` does, on an event loop thread of its own, and returns the summary.
    /// For embedding: load the sources with `ConfigLoader.load`, the FTP side with `FTPEnvironment.load` (or build
    /// them), choose `RunOptions`. Throws only when the run cannot start (the log file cannot be written, no thread).
    public static func run(
        sources: [SourceConfig], ftp: FTPEnvironment, options: RunOptions = RunOptions(),
        logPath: String = "etl_pipeline.log", echoLogToStderr: Bool = false
    ) async throws -> RunSummary {
        let thread = try EventLoopThread()
        defer { thread.shutdown() }
        let runStart = LocalTime.now()
        let result: Result<RunSummary, ConfigError> = await withCheckedContinuation { continuation in
            thread.handle.execute { loop in
                let log: RunLog
                do throws(ConfigError) {
                    log = try RunLog(path: logPath, secrets: [ftp.password])
                } catch {
                    return continuation.resume(returning: .failure(error))
                }
                log.echoToStderr = echoLogToStderr
                let started = Clock.monotonicNanoseconds()
                let pipeline = Pipeline(
                    loop: loop, sources: sources, ftp: ftp, options: options, log: log, runStart: runStart)
                pipeline.run { outcomes in
                    _ = pipeline
                    let summary = RunSummary(
                        outcomes: outcomes, wallMS: Int((Clock.monotonicNanoseconds() - started) / 1_000_000),
                        ftpHost: ftp.host, ftpTarget: ftp.targetDirectory, started: runStart.iso8601)
                    log.event(summary.failed.isEmpty ? .info : .warning, source: nil, "summary", summary.fields)
                    continuation.resume(returning: .success(summary))
                }
            }
        }
        return try result.get()
    }
}
