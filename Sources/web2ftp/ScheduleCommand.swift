import Glibc
@_spi(Internals) import Reactor
@_spi(Internals) import WebToFTP

/// `web2ftp schedule sequential|parallel [--at HH:MM]… [--run-now] [options]`: stays up and runs every source daily
/// (22:23 local time unless `--at` says otherwise). Never two runs at once; config.json is read again before each
/// run (a broken edit is logged and that run skipped); the run lock is held only while a run runs; idles on a
/// wall-clock timerfd (0 % CPU) that also notices clock steps. SIGINT/SIGTERM: exit 0 when idle, else abort the run
/// and exit 130/143. SIGHUP reopens the log. Under systemd (`NOTIFY_SOCKET`) it reports READY, its STATUS and
/// watchdog pings, and STOPPING (`SystemdNotifier`).
final class ScheduleCommand {
    private let parsed: RunCommand.Arguments
    private let schedule: DailySchedule
    private let loop: EventLoop
    private var prepared: RunCommand.Prepared
    private var timer: WallClockTimer?
    private var watcher: SignalWatcher?
    private var lastFired: LocalSlot?
    private var nextSlot: LocalSlot?
    private var running: Pipeline?
    private var lock: RunLock?
    private var stopping: Int32?
    private var exitCode: Int32 = 0
    /// On a terminal: people's lines, a run's progress, and between runs the idle line.
    private var terminal: TerminalDisplay?
    private var nextRunTime: Int64?
    private var lastRun: LiveLines.LastRun?
    /// systemd's notify socket, when there is one; `lastResult` and `statusTimer` feed its STATUS line.
    private var notifier: SystemdNotifier?
    private var lastResult: ScheduleNotice.LastResult?
    private var statusTimer: TimerID?

    static func run(_ arguments: [String]) -> Int32 {
        let parsed: RunCommand.Arguments
        switch RunArguments.forRun(arguments, schedule: true) {
        case .failure(let exit): return exit.status
        case .success(let value): parsed = value
        }
        guard RunCommand.setUpSignals() else { return 2 }
        // The first check is strict: a schedule that could never run is refused at once (exit 2).
        let prepared: RunCommand.Prepared
        switch RunCommand.prepare(parsed, runStart: LocalTime.now()) {
        case .failure(let problems):
            writeOut("web2ftp: not scheduled:\n" + problems.list.map { "  - \($0)\n" }.joined(), to: 2)
            return 2
        case .success(let value):
            prepared = value
        }
        let times = parsed.times.isEmpty ? [TimeOfDay("22:23")!] : parsed.times
        do {
            let command = try ScheduleCommand(parsed: parsed, schedule: DailySchedule(times: times), prepared: prepared)
            return command.start()
        } catch {
            writeOut("web2ftp: \(error)\n", to: 2)
            return 1
        }
    }

    private init(parsed: RunCommand.Arguments, schedule: DailySchedule, prepared: RunCommand.Prepared) throws {
        self.parsed = parsed
        self.schedule = schedule
        self.prepared = prepared
        loop = try EventLoop()
    }

    private var log: RunLog { prepared.log }

    private func start() -> Int32 {
        do {
            timer = try WallClockTimer(loop: loop) { [unowned self] event in
                switch event {
                case .fired: self.fire()
                case .clockChanged:
                    self.log.event(.info, source: nil, "clock_changed")
                    self.armNext()
                }
            }
            watcher = try SignalWatcher(loop: loop, signals: [SIGINT, SIGTERM, SIGHUP]) { [unowned self] signal in
                self.signal(signal)
            }
        } catch {
            writeOut("web2ftp: \(error)\n", to: 2)
            return 1
        }
        terminal = RunCommand.terminalDisplay(loop: loop, log: log, parsed: parsed)
        log.event(
            .info, source: nil, "schedule",
            [
                ("mode", parsed.mode.rawValue), ("at", schedule.times.map(\.description).joined(separator: ",")),
                ("config", parsed.config), ("version", Web2FTP.version),
            ])
        notifier = SystemdNotifier(environment: processEnvironment(), log: log)
        if parsed.runNow { startRun(trigger: "start") }
        armNext()
        // Set up: the config passed its check, the timer is armed for the first run (a run's lock is taken per run).
        notifier?.ready(notice)
        notifier?.startWatchdog(on: loop)
        releaseMemoryWhenIdle()
        do {
            try loop.run()
        } catch {
            writeOut("web2ftp: \(error)\n", to: 2)
            return 1
        }
        timer?.close()
        watcher?.close()
        notifier?.stopWatchdog(on: loop)
        return exitCode
    }

    private func armNext() {
        let next = schedule.next(after: MonotonicClock.unixSeconds(), lastFired: lastFired)
        nextSlot = next.slot
        nextRunTime = next.unixTime
        do {
            try timer?.arm(atUnixTime: next.unixTime)
            log.event(.info, source: nil, "next_run", [("at", DailySchedule.describe(next.unixTime))])
            if running == nil { showIdle() }
            notifier?.status(notice)
        } catch {
            log.event(.error, source: nil, "timer", [("reason", "\(error)")])
        }
    }

    private func fire() {
        lastFired = nextSlot
        if running != nil {
            log.event(.warning, source: nil, "skipped", [("reason", "the previous run is still going")])
        } else {
            startRun(trigger: "schedule")
        }
        armNext()
    }

    private func startRun(trigger: String) {
        let runStart = LocalTime.now()
        // The config is read again for every run: an edit takes effect at the next run, a broken one skips it.
        switch RunCommand.loadSources(parsed, runStart: runStart) {
        case .failure(let problems):
            log.event(.error, source: nil, "skipped", [("reason", "config: " + problems.list.joined(separator: "; "))])
            return
        case .success(let sources):
            prepared.sources = sources
        }
        switch RunCommand.takeLock(parsed, log: log) {
        case .success(let taken): lock = taken
        case .failure(.held):
            return log.event(
                .warning, source: nil, "skipped", [("reason", "another run of this config holds the lock")])
        case .failure(let refusal):
            return log.event(.error, source: nil, "skipped", [("reason", refusal.message)])
        }
        let pipeline: Pipeline
        do {
            pipeline = try Pipeline(
                loop: loop, sources: prepared.sources, ftp: prepared.ftp, options: prepared.options, log: log,
                runStart: runStart)
        } catch {
            self.lock = nil
            log.event(.error, source: nil, "skipped", [("reason", "config: " + error.messages.joined(separator: "; "))])
            return
        }
        running = pipeline
        let periodic = terminal == nil ? ProgressDisplay(loop: loop, log: log) { pipeline.progress } : nil
        terminal?.watch { pipeline.progress }
        periodic?.start()
        notifier?.status(notice)
        if notifier != nil {
            // The STATUS line follows the run's progress; the notifier sends it only when it changed.
            statusTimer = loop.scheduleTimer(afterMilliseconds: 1000, repeating: 1000) { [unowned self] in
                self.notifier?.status(self.notice)
            }
        }
        let started = LocalTime.now()
        pipeline.start(trigger: trigger) { [unowned self] summary in
            periodic?.stop()
            self.terminal?.stopLive()
            let lastRun = LiveLines.LastRun(
                started: String(LiveLines.WallTime(started).clock.prefix(5)), sources: summary.outcomes.count,
                failed: summary.failed.count,
                interrupted: summary.failed.contains {
                    if case .failure(let failure) = $0.result { failure.interrupted } else { false }
                })
            self.lastRun = lastRun
            self.lastResult = ScheduleNotice.LastResult(
                started: lastRun.started, published: summary.succeeded.count - summary.unchanged,
                unchanged: summary.unchanged, failed: summary.failed.count, interrupted: lastRun.interrupted)
            if let statusTimer = self.statusTimer { self.loop.cancelTimer(statusTimer) }
            self.statusTimer = nil
            RunCommand.writeSummaryJSON(summary, parsed: self.parsed, log: self.log)
            self.running = nil
            self.lock = nil  // released between runs: an idle scheduler holds no lock
            // A run interrupted by a signal still writes and pushes its metrics, then the scheduler leaves.
            let stopping = self.stopping
            MetricsOutput.publish(
                summary, parsed: self.parsed, options: self.prepared.options, log: self.log, loop: self.loop
            ) { [unowned self] in
                guard let stopping else { return }
                self.exitCode = stopping == SIGINT ? 130 : 143
                self.loop.stop()
            }
            if stopping == nil {
                self.showIdle()
                self.notifier?.status(self.notice)
                self.releaseMemoryWhenIdle()
            }
        }
    }

    /// Most of a day until the next run: the code pages the run touched go back (`IdleMemory`). A few seconds on,
    /// once the run's connections have said goodbye — their TLS shutdowns would touch libcrypto's pages again.
    private func releaseMemoryWhenIdle() {
        _ = loop.scheduleTimer(afterMilliseconds: 3_000) { [weak self] in
            if let self, self.running == nil { IdleMemory.release() }
        }
    }

    /// What systemd's STATUS line says now.
    private var notice: ScheduleNotice {
        let phase: ScheduleNotice.Phase
        if let stopping {
            phase = .stopping(signal: stopping == SIGINT ? "SIGINT" : "SIGTERM", aborting: running != nil)
        } else if let running {
            let progress = running.progress
            phase = .running(done: progress.done, total: progress.total, failed: progress.failed)
        } else {
            phase = .idle(next: nextRunTime.map { NextRunCommand.people($0) } ?? "not set")
        }
        return ScheduleNotice(phase: phase, last: lastResult)
    }

    /// The terminal's idle line: when the next run is, and how the last one went.
    private func showIdle() {
        guard let terminal, let nextRunTime else { return }
        let kind = TerminalKind(environment: processEnvironment())
        let next = NextRunCommand.people(nextRunTime)
        terminal.showIdle { [unowned self] width in
            LiveLines.idle(
                next: next, inSeconds: nextRunTime - MonotonicClock.unixSeconds(), last: self.lastRun, width: width,
                kind: kind)
        }
    }

    private func signal(_ signal: Int32) {
        if signal == SIGHUP { return log.reopen() }
        let name = signal == SIGINT ? "SIGINT" : "SIGTERM"
        if stopping != nil { exit(signal == SIGINT ? 130 : 143) }
        stopping = signal
        notifier?.stopping(notice)
        guard let running else {
            terminal?.stopLive()
            log.event(.info, source: nil, "stopped", [("signal", name)])
            exitCode = 0
            return loop.stop()
        }
        log.event(.warning, source: nil, "interrupted", [("signal", name)])
        running.cancel("interrupted by \(name)")
    }
}
