import Glibc
@_spi(Internals) import WebToFTP

/// `web2ftp manual sequential|parallel [options]`: one run of every source, now.
enum RunCommand {
    typealias Arguments = RunArguments

    static func run(_ arguments: [String]) -> Int32 {
        let parsed: Arguments
        switch Arguments.forRun(arguments, schedule: false) {
        case .failure(let exit): return exit.status
        case .success(let value): parsed = value
        }
        guard setUpSignals() else { return 2 }
        let runStart = LocalTime.now()
        let prepared: Prepared
        switch prepare(parsed, runStart: runStart) {
        case .failure(let problems):
            writeOut("web2ftp: nothing ran:\n" + problems.list.map { "  - \($0)\n" }.joined(), to: 2)
            return 2
        case .success(let value):
            prepared = value
        }
        let lock: RunLock
        switch takeLock(parsed, log: prepared.log) {
        case .success(let taken): lock = taken
        case .failure(let refusal): return refusal.exitCode
        }
        defer { withExtendedLifetime(lock) {} }
        return execute(
            sources: prepared.sources, ftp: prepared.ftp, options: prepared.options, log: prepared.log,
            runStart: runStart, parsed: parsed)
    }

    /// Signals go to the loop through a signalfd: block them before any thread exists (PLATFORM.md).
    static func setUpSignals() -> Bool {
        do {
            try ProcessSignals.blockForWatching([SIGINT, SIGTERM, SIGHUP])
            try ProcessSignals.ignoreBrokenPipe()
            return true
        } catch {
            writeOut("web2ftp: \(error)\n", to: 2)
            return false
        }
    }

    struct Prepared {
        var sources: [SourceConfig]
        var ftp: FTPEnvironment
        var options: RunOptions
        var log: RunLog
    }

    struct Problems: Error {
        var list: [String]
    }

    /// Reads the config, and checks that `--only` names its sources (the pipeline applies it); every problem listed.
    /// Under `--shard`, the shard's sources only, and `--only` must name sources of the shard.
    static func loadSources(_ parsed: Arguments, runStart: LocalTime) -> Result<[SourceConfig], Problems> {
        let sources: [SourceConfig]
        switch ConfigFile.load(parsed.config, runStart: runStart) {
        case .failure(let problems): return .failure(problems)
        case .success(let loaded): sources = loaded
        }
        do {
            _ = try Pipeline.select(sources, only: Set(parsed.only))
        } catch {
            return .failure(Problems(list: error.messages))
        }
        guard let shard = parsed.shard else { return .success(sources) }
        let outside = parsed.only.filter { !shard.contains($0) }
        guard outside.isEmpty else {
            return .failure(
                Problems(
                    list: outside.map {
                        "--only: \"\($0)\" is in shard \(Shard.index(of: $0, count: shard.count))/\(shard.count), not \(shard.label)"
                    }))
        }
        return .success(sources.filter { shard.contains($0.name) })
    }

    /// The state file: `--state`, else the config's default, which a shard names after itself
    /// (`<hash>.<K>-of-<N>.json`) so that shards never write one another's.
    static func statePath(_ parsed: Arguments) -> String? {
        if let given = parsed.statePath { return given }
        guard let path = SyncStateFile.defaultPath(forConfig: parsed.config) else { return nil }
        guard let shard = parsed.shard else { return path }
        return String(path.dropLast(".json".count)) + ".\(shard.fileTag).json"
    }

    /// Everything a run needs, checked before anything runs: config, environment, TLS files, the log. When it is
    /// refused, the log gets the problems too (one `config_error` line each) if it can be opened: under systemd or
    /// cron the log is where one looks.
    static func prepare(_ parsed: Arguments, runStart: LocalTime) -> Result<Prepared, Problems> {
        var problems: [String] = []
        var sources: [SourceConfig] = []
        switch loadSources(parsed, runStart: runStart) {
        case .failure(let found): problems += found.list
        case .success(let loaded): sources = loaded
        }
        let environment = processEnvironment()
        let variables = FTPVariables.load(environment, security: parsed.ftpTLS)
        problems += variables.problems
        let ftp = variables.ftp
        var options = RunOptions()
        options.mode = parsed.mode
        options.workers = parsed.workers
        options.retries = parsed.retries
        options.trustPassiveAddress = parsed.trustPASV
        options.only = Set(parsed.only)
        options.force = parsed.force
        options.statePath = statePath(parsed)
        options.shard = parsed.shard
        if let seconds = parsed.ftpTimeoutSeconds { options.ftpTimeoutMS = seconds * 1000 }
        // For tests and impatient operators: the first retry's base delay (default 1 s).
        if let base = environment["WEB2FTP_RETRY_BASE_MS"].flatMap({ Int($0) }), base >= 0 {
            options.retryBaseMS = base
        }
        options.tls.additionalCAFile = parsed.caFile
        if parsed.insecure { options.tls.verification = .insecureNoVerification }
        do {
            options.proxies = try ProxySettings(environment: environment)
        } catch {
            problems.append("proxy settings: \(error)")
        }
        if parsed.caFile != nil {
            do { try TLSContext.loadTrust(options.tls) } catch { problems.append("--cacert: \(error)") }
        }
        if let path = parsed.metricsFile, let problem = MetricsOutput.fileProblem(path) { problems.append(problem) }
        let logFormat =
            parsed.logFormat ?? environment["WEB2FTP_LOG_FORMAT"].flatMap { $0.isEmpty ? nil : $0 } ?? "text"
        if logFormat != "text" && logFormat != "json" {
            problems.append("WEB2FTP_LOG_FORMAT '\(logFormat)' is not text or json")
        }
        var log: RunLog?
        do {
            // `--log -`: no file at all, stderr is the log (a read-only root filesystem, a container's log driver).
            log = try RunLog(path: parsed.log == "-" ? nil : parsed.log, secrets: [ftp?.password ?? ""])
        } catch {
            problems += error.messages
        }
        log?.json = logFormat == "json"
        guard problems.isEmpty, let ftp, let log else {
            if let log {
                // Printed on stderr with the rest by the caller; the log file alone gets these lines.
                log.echoToStderr = false
                for problem in problems { log.event(.error, source: nil, "config_error", [("problem", problem)]) }
            }
            return .failure(Problems(list: problems))
        }
        log.quiet = parsed.quiet
        log.onWriteFailure = { [unowned log] error in
            log.warnOnStderr("log_write_failed", [("path", error.path), ("reason", error.reason), ("run", "goes on")])
        }
        log.verbose = parsed.verbose
        log.trace = parsed.trace
        for warning in variables.warnings { log.event(.warning, source: nil, warning.name, warning.fields) }
        return .success(Prepared(sources: sources, ftp: ftp, options: options, log: log))
    }

    /// The lock for this config, or why not (after saying so): another run holds it, or it cannot be created.
    static func takeLock(_ parsed: Arguments, log: RunLog) -> Result<RunLock, RunLock.Failure> {
        do {
            return .success(try RunLock(config: parsed.config, shard: parsed.shard))
        } catch {
            switch error {
            case .held(let path, let holder):
                writeOut("web2ftp: another run of \(parsed.config) is in progress (\(holder); lock \(path))\n", to: 2)
                log.event(.error, source: nil, "locked", [("config", parsed.config), ("holder", holder)])
            case .failed(let path, _):
                writeOut("web2ftp: nothing ran: \(error.message)\n", to: 2)
                log.event(.error, source: nil, "locked", [("path", path), ("reason", error.message)])
            }
            return .failure(error)
        }
    }

    private static func execute(
        sources: [SourceConfig], ftp: FTPEnvironment, options: RunOptions, log: RunLog, runStart: LocalTime,
        parsed: Arguments
    ) -> Int32 {
        let loop: EventLoop
        let pipeline: Pipeline
        do {
            loop = try EventLoop()
            pipeline = try Pipeline(
                loop: loop, sources: sources, ftp: ftp, options: options, log: log, runStart: runStart)
        } catch {
            writeOut("web2ftp: \(error)\n", to: 2)
            return 1
        }
        var signalled: Int32?
        var exitCode: Int32 = 1
        let watcher = try? SignalWatcher(loop: loop, signals: [SIGINT, SIGTERM, SIGHUP]) { signal in
            if signal == SIGHUP { return log.reopen() }
            if signalled != nil {
                // A second interrupt: leave at once.
                exit(signal == SIGINT ? 130 : 143)
            }
            signalled = signal
            let name = signal == SIGINT ? "SIGINT" : "SIGTERM"
            log.event(.warning, source: nil, "interrupted", [("signal", name)])
            pipeline.cancel("interrupted by \(name)")
        }
        let terminal = terminalDisplay(loop: loop, log: log, parsed: parsed)
        let periodic = terminal == nil ? ProgressDisplay(loop: loop, log: log) { pipeline.progress } : nil
        terminal?.watch { pipeline.progress }
        periodic?.start()
        pipeline.start(dryRun: parsed.dryRun) { summary in
            terminal?.stopLive()
            periodic?.stop()
            writeSummaryJSON(summary, parsed: parsed, log: log)
            if let signalled {
                exitCode = signalled == SIGINT ? 130 : 143
            } else {
                exitCode = summary.failed.isEmpty ? 0 : summary.destinationUnusable ? 4 : 1
            }
            MetricsOutput.publish(summary, parsed: parsed, options: options, log: log, loop: loop) { loop.stop() }
        }
        do {
            try loop.run()
        } catch {
            writeOut("web2ftp: \(error)\n", to: 2)
        }
        watcher?.close()
        return exitCode
    }

    /// On a terminal, stderr shows people's lines and a live block (`TerminalDisplay`); elsewhere (journald, cron
    /// mail, a pipe) the log's own lines, as ever: nil.
    static func terminalDisplay(loop: EventLoop, log: RunLog, parsed: Arguments) -> TerminalDisplay? {
        guard Terminal.isTerminal(2) else { return nil }
        return TerminalDisplay(
            loop: loop, log: log, kind: TerminalKind(environment: processEnvironment()), quiet: parsed.quiet,
            verbose: parsed.verbose)
    }

    /// `--summary-json`, when asked for.
    static func writeSummaryJSON(_ summary: RunSummary, parsed: Arguments, log: RunLog) {
        if let path = parsed.summaryJSON, case .failure(let reason) = writeFile(path, summary.json) {
            log.event(.error, source: nil, "summary_json", [("path", path), ("reason", reason.text)])
        }
    }

    static func readFile(_ path: String) -> Result<String, Message> {
        do {
            return .success(String(decoding: try File.contents(of: path, limit: 16 << 20), as: UTF8.self))
        } catch {
            return .failure(Message(error.reason))
        }
    }

    static func writeFile(_ path: String, _ text: String) -> Result<Void, Message> {
        do {
            let file = try File(path, .truncate)
            try file.write(text)
            try file.closeReporting()
            return .success(())
        } catch {
            return .failure(Message(error.reason))
        }
    }
}
