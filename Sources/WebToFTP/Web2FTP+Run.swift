@_spi(Internals) import Reactor

extension Web2FTP {
    /// Runs `sources` once, as `web2ftp manual` does, on an event loop thread of its own, and returns the summary.
    /// For embedding: load the sources with `ConfigLoader.load`, the FTP side with `FTPEnvironment.load` (or build
    /// them), choose `RunOptions` (`only` picks sources by name). Throws only when the run cannot start (the log file
    /// cannot be written, `only` names an unknown source, no thread).
    ///
    /// Every event the CLI logs reaches `observer`, as a `RunEvent`, on the run's loop thread, in order (keep it
    /// short: the transfers wait meanwhile). `logPath` also writes them to a log file, as the CLI's; nil (the
    /// default) writes none. `trace` makes the protocol trace's TRACE `trace` events, as `--trace` does. A log file
    /// that stops taking lines (a full disk) does not stop the run: the observer hears one WARN `log_write_failed`
    /// (path, reason, errno).
    ///
    /// Cancelling the task that awaits the run cancels the pipeline as SIGINT does the CLI's: waiting sources are
    /// dropped, transfers in flight aborted and their temporary files removed (for at most about ten seconds), and the
    /// run still *returns* its summary, the sources it cut short failed with `class=interrupted`.
    public static func run(
        sources: [SourceConfig], ftp: FTPEnvironment, options: RunOptions = RunOptions(), logPath: String? = nil,
        echoLogToStderr: Bool = false, trace: Bool = false, observer: (@Sendable (RunEvent) -> Void)? = nil
    ) async throws -> RunSummary {
        let thread = try EventLoopThread()
        defer { thread.shutdown() }
        let runStart = LocalTime.now()
        let cancellation = RunCancellation()
        let result: Result<RunSummary, ConfigError> = await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                thread.handle.execute { loop in
                    do throws(ConfigError) {
                        let log = try RunLog(path: logPath, secrets: [ftp.password])
                        log.echoToStderr = echoLogToStderr
                        log.trace = trace
                        if let observer {
                            log.addObserver(observer)
                            log.onWriteFailure = { error in
                                observer(
                                    RunEvent(
                                        time: .now(), level: .warning, source: nil, name: "log_write_failed",
                                        fields: [
                                            .init("path", .text(error.path)), .init("reason", .text(error.reason)),
                                            .init("errno", .integer(Int64(error.errno))),
                                        ]))
                            }
                        }
                        let pipeline = try Pipeline(
                            loop: loop, sources: sources, ftp: ftp, options: options, log: log, runStart: runStart)
                        pipeline.start { summary in continuation.resume(returning: .success(summary)) }
                        cancellation.started(pipeline)
                    } catch {
                        continuation.resume(returning: .failure(error))
                    }
                }
            }
        } onCancel: {
            // Through the loop, as every call from another thread: the pipeline is bound to it.
            thread.handle.execute { _ in cancellation.cancel() }
        }
        return try result.get()
    }
}

/// The bridge between a Swift task's cancellation and the pipeline's own `cancel`. A cancel may come before the
/// pipeline has started (the task was cancelled already): it is remembered and applied at the start.
///
/// @unchecked Sendable: handed to the task's cancellation handler, but read and written only on the run's loop
/// thread (`started` runs in the loop's job, `cancel` is posted there through the handle).
private final class RunCancellation: @unchecked Sendable {
    private weak var pipeline: Pipeline?
    private var requested = false

    func started(_ pipeline: Pipeline) {
        self.pipeline = pipeline
        if requested { Self.cancel(pipeline) }
    }

    func cancel() {
        guard !requested else { return }
        requested = true
        if let pipeline { Self.cancel(pipeline) }
    }

    private static func cancel(_ pipeline: Pipeline) {
        // Said only when it takes effect: a cancel during the final QUIT interrupts nothing.
        guard pipeline.isCancellable else { return }
        pipeline.log.event(.warning, source: nil, "interrupted", [("by", "task_cancellation")])
        pipeline.cancel(Pipeline.taskCancelledReason)
    }
}
