@_spi(Internals) import Reactor

extension Web2FTP {
    /// Runs `sources` once, as `web2ftp manual` does, on an event loop thread of its own, and returns the summary.
    /// For embedding: load the sources with `ConfigLoader.load`, the FTP side with `FTPEnvironment.load` (or build
    /// them), choose `RunOptions` (`only` picks sources by name). Throws only when the run cannot start (the log file
    /// cannot be written, `only` names an unknown source, no thread). `trace` writes the protocol trace (TRACE
    /// `trace` events) to the log, as `--trace` does. A log file that stops taking lines (a full disk) does not stop
    /// the run: `onLogWriteFailure` hears it once, on the run's thread.
    public static func run(
        sources: [SourceConfig], ftp: FTPEnvironment, options: RunOptions = RunOptions(),
        logPath: String = "etl_pipeline.log", echoLogToStderr: Bool = false, trace: Bool = false,
        onLogWriteFailure: (@Sendable (FileError) -> Void)? = nil
    ) async throws -> RunSummary {
        let thread = try EventLoopThread()
        defer { thread.shutdown() }
        let runStart = LocalTime.now()
        let result: Result<RunSummary, ConfigError> = await withCheckedContinuation { continuation in
            thread.handle.execute { loop in
                do throws(ConfigError) {
                    let log = try RunLog(path: logPath, secrets: [ftp.password])
                    log.echoToStderr = echoLogToStderr
                    log.trace = trace
                    log.onWriteFailure = onLogWriteFailure
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
