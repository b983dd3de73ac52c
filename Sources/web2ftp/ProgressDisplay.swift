import Glibc
@_spi(Internals) import WebToFTP

/// Shows how a run is going. On a terminal: a live block (one line per active source — name, bytes, rate, percent and
/// ETA when the size is known — and an overall line), redrawn ten times a second at most and cleared at the end;
/// log lines print above it. Not on a terminal: a `progress` log line per long transfer every 30 s.
final class ProgressDisplay {
    private let loop: EventLoop
    private let log: RunLog
    private let source: () -> (running: [TransferProgress], done: Int, total: Int)
    private let terminal: Bool
    private var timer: TimerID?
    private var shownLines = 0

    init(
        loop: EventLoop, log: RunLog, quiet: Bool,
        source: @escaping () -> (running: [TransferProgress], done: Int, total: Int)
    ) {
        self.loop = loop
        self.log = log
        self.source = source
        terminal = !quiet && isatty(2) == 1
    }

    func start() {
        if terminal {
            log.aroundStderr = { [unowned self] write in
                self.clear()
                write()
                self.draw()
            }
            timer = loop.scheduleTimer(afterMilliseconds: 100, repeating: 100) { [unowned self] in
                self.clear()
                self.draw()
            }
        } else {
            timer = loop.scheduleTimer(afterMilliseconds: 30_000, repeating: 30_000) { [unowned self] in
                for transfer in self.source().running where transfer.elapsedMS >= 30_000 {
                    var fields = [("bytes", "\(transfer.bytes)"), ("rate", Self.rate(transfer))]
                    if let total = transfer.total { fields.append(("total", "\(total)")) }
                    self.log.event(.info, source: transfer.name, "progress", fields)
                }
            }
        }
    }

    func stop() {
        if let timer { loop.cancelTimer(timer) }
        timer = nil
        if terminal {
            clear()
            log.aroundStderr = nil
        }
    }

    private func clear() {
        guard shownLines > 0 else { return }
        // Up to the first line of the block, then clear to the end of the screen.
        write("\u{1B}[\(shownLines)A\r\u{1B}[J")
        shownLines = 0
    }

    private func draw() {
        let state = source()
        var lines: [String] = []
        for transfer in state.running.prefix(20) {
            var line = "  \(transfer.name)  \(Self.size(transfer.bytes))  \(Self.rate(transfer))"
            if let total = transfer.total, total > 0 {
                let percent = min(100, Int(transfer.bytes * 100 / total))
                line += "  \(percent)%"
                let speed = Double(transfer.bytes) / max(0.001, Double(transfer.elapsedMS) / 1000)
                if speed > 0 && transfer.bytes < total {
                    let eta = Int(Double(total - transfer.bytes) / speed)
                    line += "  ETA \(eta / 60):\(eta % 60 < 10 ? "0" : "")\(eta % 60)"
                }
            }
            lines.append(line)
        }
        lines.append("web2ftp: \(state.done)/\(state.total) done, \(state.running.count) running")
        write(lines.map { $0 + "\u{1B}[K\n" }.joined())
        shownLines = lines.count
    }

    private func write(_ text: String) { writeOut(text, to: 2) }

    static func size(_ bytes: UInt64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(bytes) B" : "\(Double(Int(value * 10)) / 10) \(units[unit])"
    }

    static func rate(_ transfer: TransferProgress) -> String {
        let seconds = max(0.001, Double(transfer.elapsedMS) / 1000)
        return size(UInt64(Double(transfer.bytes) / seconds)) + "/s"
    }
}
