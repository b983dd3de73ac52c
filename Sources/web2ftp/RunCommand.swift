import Glibc
@_spi(Internals) import WebToFTP

/// A message for the user, as an error value.
struct Message: Error {
    let text: String
    init(_ text: String) { self.text = text }
}

/// `web2ftp manual sequential|parallel [options]`: one run of every source, now.
enum RunCommand {
    struct Arguments {
        var mode = RunOptions.Mode.sequential
        var config = "config.json"
        var log = "etl_pipeline.log"
        var workers = 4
        var retries = 2
        var only: [String] = []
        var summaryJSON: String?
        var caFile: String?
        var insecure = false
        var ftpTLS: FTPSecurity?
        var trustPASV = false
        var ftpTimeoutSeconds: Int?
        var quiet = false
        var dryRun = false
        var times: [TimeOfDay] = []
        var runNow = false
        /// `-v`: attempt lines on stderr too.
        var verbose = false
        /// `-vv`, `-v -v`, `--trace`: also every protocol line, at TRACE (implies `verbose`).
        var trace = false
    }

    static func parse(_ arguments: [String], schedule: Bool = false) -> Result<Arguments, Message> {
        var parsed = Arguments()
        guard let mode = arguments.first.flatMap(RunOptions.Mode.init(rawValue:)) else {
            return .failure(Message("\(schedule ? "schedule" : "manual") needs sequential or parallel"))
        }
        parsed.mode = mode
        var index = 1
        /// The argument after `flag` as `read` takes it; when it is missing or `read` refuses it, a message that
        /// `flag` `needs` something.
        func value<T>(_ flag: String, _ needs: String, _ read: (String) -> T?) throws(Message) -> T {
            index += 1
            guard index < arguments.count, let value = read(arguments[index]) else { throw Message("\(flag) \(needs)") }
            return value
        }
        func text(_ flag: String, _ what: String) throws(Message) -> String {
            try value(flag, "needs \(what)") { $0 }
        }
        func number(_ flag: String, _ range: ClosedRange<Int>, of unit: String = "") throws(Message) -> Int {
            try value(flag, "needs a number\(unit) from \(range.lowerBound) to \(range.upperBound)") {
                Int($0).flatMap { range.contains($0) ? $0 : nil }
            }
        }
        do throws(Message) {
            while index < arguments.count {
                let flag = arguments[index]
                switch flag {
                case "--config": parsed.config = try text(flag, "a path")
                case "--log": parsed.log = try text(flag, "a path")
                case "--workers": parsed.workers = try number(flag, 1...64)
                case "--retries": parsed.retries = try number(flag, 0...100)
                case "--ftp-timeout": parsed.ftpTimeoutSeconds = try number(flag, 1...3600, of: " of seconds")
                case "--only": parsed.only.append(try text(flag, "a source name"))
                case "--summary-json": parsed.summaryJSON = try text(flag, "a path")
                case "--cacert": parsed.caFile = try text(flag, "a file")
                case "--insecure": parsed.insecure = true
                case "--ftp-tls":
                    parsed.ftpTLS = try value(flag, "takes explicit, implicit or none") { FTPSecurity(rawValue: $0) }
                case "--ftp-use-pasv-ip": parsed.trustPASV = true
                case "--quiet": parsed.quiet = true
                case "-v", "--verbose":
                    // A second one is `-vv`.
                    parsed.trace = parsed.verbose
                    parsed.verbose = true
                case _ where flag == "--trace" || isManyV(flag):
                    parsed.verbose = true
                    parsed.trace = true
                case "--dry-run": parsed.dryRun = true
                case "--at" where schedule:
                    parsed.times.append(try value(flag, "needs a time of day, HH:MM or HH:MM:SS") { TimeOfDay($0) })
                case "--run-now" where schedule: parsed.runNow = true
                case "--at", "--run-now":
                    return .failure(Message("\(flag) belongs to schedule mode"))
                default:
                    return .failure(Message("unknown option '\(flag)' (see --help)"))
                }
                index += 1
            }
        } catch {
            return .failure(error)
        }
        return .success(parsed)
    }

    /// `-vv`, and more v's as other tools take them.
    static func isManyV(_ flag: String) -> Bool {
        flag.count > 2 && flag.hasPrefix("-") && flag.dropFirst().allSatisfy { $0 == "v" }
    }

    static func run(_ arguments: [String]) -> Int32 {
        let parsed: Arguments
        switch parse(arguments) {
        case .failure(let message):
            writeOut("web2ftp: \(message.text)\n", to: 2)
            return 2
        case .success(let value):
            parsed = value
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
    static func loadSources(_ parsed: Arguments, runStart: LocalTime) -> Result<[SourceConfig], Problems> {
        var problems: [String] = []
        var sources: [SourceConfig] = []
        switch readFile(parsed.config) {
        case .failure(let reason):
            problems.append("cannot read the config \(parsed.config): \(reason.text)")
        case .success(let text):
            do {
                sources = try ConfigLoader.load(text, runStart: runStart)
            } catch {
                problems += error.messages.map { "\(parsed.config): \($0)" }
            }
        }
        if !sources.isEmpty {
            do {
                _ = try Pipeline.select(sources, only: Set(parsed.only))
            } catch {
                problems += error.messages
            }
        }
        guard problems.isEmpty else { return .failure(Problems(list: problems)) }
        return .success(sources)
    }

    /// Everything a run needs, checked before anything runs: config, environment, TLS files, the log.
    static func prepare(_ parsed: Arguments, runStart: LocalTime) -> Result<Prepared, Problems> {
        var problems: [String] = []
        var sources: [SourceConfig] = []
        switch loadSources(parsed, runStart: runStart) {
        case .failure(let found): problems += found.list
        case .success(let loaded): sources = loaded
        }
        let environment = processEnvironment()
        var ftp: FTPEnvironment?
        do {
            var netrc: String?
            if environment["FTPPASS"]?.isEmpty ?? true, let home = environment["HOME"],
                case .success(let text) = readFile(home + "/.netrc")
            {
                netrc = text
            }
            ftp = try FTPEnvironment.load(environment, security: parsed.ftpTLS, netrc: netrc)
        } catch {
            problems += error.messages
        }
        var options = RunOptions()
        options.mode = parsed.mode
        options.workers = parsed.workers
        options.retries = parsed.retries
        options.trustPassiveAddress = parsed.trustPASV
        options.only = Set(parsed.only)
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
            do { _ = try TLSContext(options.tls) } catch { problems.append("--cacert: \(error)") }
        }
        var log: RunLog?
        do {
            log = try RunLog(path: parsed.log, secrets: [ftp?.password ?? ""])
        } catch {
            problems += error.messages
        }
        guard problems.isEmpty, let ftp, let log else { return .failure(Problems(list: problems)) }
        log.quiet = parsed.quiet
        log.onWriteFailure = { [unowned log] error in
            log.warnOnStderr("log_write_failed", [("path", error.path), ("reason", error.reason), ("run", "goes on")])
        }
        log.verbose = parsed.verbose
        log.trace = parsed.trace
        return .success(Prepared(sources: sources, ftp: ftp, options: options, log: log))
    }

    /// The lock for this config, or why not (after saying so): another run holds it, or it cannot be created.
    static func takeLock(_ parsed: Arguments, log: RunLog) -> Result<RunLock, RunLock.Failure> {
        do {
            return .success(try RunLock(config: parsed.config))
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
            loop.stop()
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
