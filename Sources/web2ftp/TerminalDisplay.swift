@_spi(Internals) import WebToFTP

/// stderr on a terminal: each event as `TerminalLines` words it (the log file keeps its own lines), and below them
/// a live block redrawn in place — a run's progress (`LiveLines.run`) or `schedule`'s idle line — at most ten times
/// a second, gone before anything else prints and drawn again after it. One per command: it hears every event of
/// the command's log, across the runs of a schedule.
final class TerminalDisplay {
    private let loop: EventLoop
    private let kind: TerminalKind
    private let live: Bool
    private var lines: TerminalLines
    private var timer: TimerID?
    private var shownLines = 0
    /// What the live block shows now, given the terminal's width; nil: nothing.
    private var block: ((Int) -> [String])?

    init(loop: EventLoop, log: RunLog, kind: TerminalKind, quiet: Bool, verbose: Bool) {
        self.loop = loop
        self.kind = kind
        live = kind.redraws && !quiet
        lines = TerminalLines(kind: kind, verbose: verbose, quiet: quiet, logPath: log.path)
        log.echoToStderr = false
        log.addObserver { [weak self] event in self?.show(event) }
        // What still writes to stderr directly (a log file that stopped taking lines) gets the block out of the way.
        log.aroundStderr = { [weak self] write in
            self?.clear()
            write()
            self?.draw()
        }
    }

    /// Shows a run's progress below the lines until `stopLive`.
    func watch(_ progress: @escaping () -> RunProgress) {
        let kind = self.kind
        start(every: 100) { width in LiveLines.run(progress(), width: width, kind: kind) }
    }

    /// Shows one line made for the width (schedule's idle status), redrawn every second, until `stopLive`.
    func showIdle(_ line: @escaping (Int) -> String) {
        start(every: 1000) { width in [line(width)] }
    }

    func stopLive() {
        if let timer { loop.cancelTimer(timer) }
        timer = nil
        clear()
        block = nil
    }

    private func start(every milliseconds: Int, _ block: @escaping (Int) -> [String]) {
        stopLive()
        guard live else { return }
        self.block = block
        draw()
        timer = loop.scheduleTimer(afterMilliseconds: milliseconds, repeating: milliseconds) { [unowned self] in
            self.clear()
            self.draw()
        }
    }

    private func show(_ event: RunEvent) {
        let text = lines.lines(for: event)
        guard !text.isEmpty else { return }
        clear()
        writeOut(text.map { $0 + "\n" }.joined(), to: 2)
        draw()
    }

    private func clear() {
        guard shownLines > 0 else { return }
        writeOut(Terminal.eraseUp(shownLines), to: 2)
        shownLines = 0
    }

    private func draw() {
        guard let block else { return }
        let shown = block(Terminal.width())
        writeOut(shown.map { $0 + "\u{1B}[K\n" }.joined(), to: 2)
        shownLines = shown.count
    }
}
