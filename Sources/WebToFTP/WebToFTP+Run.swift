import Reactor

extension WebToFTP {
    /// Runs `sources` once, as `web2ftp manual` does, on an event loop thread of its own, and returns the summary.
    /// For embedding: load the sources with `ConfigLoader.load`, the FTP side with `FTPEnvironment.load` (or build
    /// them), choose `RunOptions` (`only` picks sources by name). Throws only when the run cannot start (the log file
    /// cannot be written, `only` names an unknown source, no thread).
    public static func run(
        sources: [SourceConfig], ftp: FTPEnvironment, options: RunOptions = RunOptions(),
        logPath: String = "etl_pipeline.log", echoLogToStderr: Bool = false
    ) async throws -> RunSummary {
        let thread = try EventLoopThread()
        defer { thread.shutdown() }
        let runStart = LocalTime.now()
        let result: Result<RunSummary, ConfigError> = await withCheckedContinuation { continuation in
            thread.handle.execute { loop in
                do throws(ConfigError) {
                    let log = try RunLog(path: logPath, secrets: [ftp.password])
                    log.echoToStderr = echoLogToStderr
                    let pipeline = try Pipeline(
                        loop: loop, sources: sources, ftp: ftp, options: options, log: log, runStart: runStart)
                    pipeline.start { summary in continuation.resume(returning: .success(summary)) }
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
        }
        return try result.get()
    }
}
