@_spi(Internals) import WebToFTP

/// The lines redrawn in place while something is going on: a run's aggregate line and its transfers under way, the
/// idle line of `schedule`, the meter of `get`. Pure: figures and a width in, lines out. Every line is cut to one
/// column less than the terminal's width, so that none wraps: a wrapped line would take two rows, and the next redraw,
/// going up one row per line, would leave a stale copy behind (what narrow terminals used to show).
enum LiveLines {
    /// At most this many transfers are listed; the rest are counted.
    static let shownTransfers = 8

    static func run(_ progress: RunProgress, width: Int, kind: TerminalKind) -> [String] {
        let sep = kind.dot
        var head = "\(progress.done)/\(progress.total) done"
        if progress.failed > 0 { head += "\(sep)\(progress.failed) failed" }
        head += "\(sep)\(HumanFormat.clock(milliseconds: progress.elapsedMS))"
        switch progress.stage {
        case .preparing:
            head += "\(sep)FTP login, old leftovers"
        case .transferring:
            head += "\(sep)\(HumanFormat.size(progress.bytes))"
            head += "\(sep)\(HumanFormat.rate(progress.bytes, milliseconds: progress.elapsedMS))"
        case .finishing:
            head += "\(sep)cleaning up"
        }
        var lines = [head]
        for transfer in progress.running.prefix(shownTransfers) {
            lines.append("  " + self.transfer(transfer, kind: kind))
        }
        if progress.running.count > shownTransfers {
            lines.append("  and \(progress.running.count - shownTransfers) more")
        }
        for name in progress.waiting.prefix(max(0, shownTransfers - progress.running.count)) {
            lines.append("  \(name)  waiting to retry")
        }
        return lines.map { HumanFormat.cut(ConfigLoader.printable($0), to: width - 1, unicode: kind.unicode) }
    }

    /// `sales  12.3 MB  2.1 MB/s  45%  ETA 0:12`: the name, what came so far, the rate, and with a known size the
    /// share and the time left.
    static func transfer(_ transfer: TransferProgress, kind: TerminalKind) -> String {
        var line = "\(transfer.name)  \(HumanFormat.size(transfer.bytes))"
        line += "  \(HumanFormat.rate(transfer.bytes, milliseconds: transfer.elapsedMS))"
        if let total = transfer.total, total > 0 {
            line += "  \(min(100, transfer.bytes * 100 / total))%"
            if transfer.bytes > 0 && transfer.bytes < total && transfer.elapsedMS > 0 {
                let left = Double(total - transfer.bytes) / (Double(transfer.bytes) / Double(transfer.elapsedMS))
                line += "  ETA \(HumanFormat.clock(milliseconds: Int(left)))"
            }
        }
        return line
    }

    /// `get`'s meter: `large.csv  12.3 MB / 45.0 MB  27%  3.1 MB/s  ETA 0:10`.
    static func meter(name: String, bytes: UInt64, total: UInt64?, elapsedMS: Int, width: Int, kind: TerminalKind)
        -> String
    {
        var line = "\(name)  \(HumanFormat.size(bytes))"
        if let total, total > 0 { line += " / \(HumanFormat.size(total))  \(min(100, bytes * 100 / total))%" }
        line += "  \(HumanFormat.rate(bytes, milliseconds: elapsedMS))"
        if let total, total > bytes, bytes > 0, elapsedMS > 0 {
            let left = Double(total - bytes) / (Double(bytes) / Double(elapsedMS))
            line += "  ETA \(HumanFormat.clock(milliseconds: Int(left)))"
        }
        // Three columns short: the terminal echoes a Ctrl-C as `^C` where the cursor is, at the meter's end; so
        // the two fit on the row and the meter's erasing takes both (else `^C` wraps and the meter stays behind).
        return HumanFormat.cut(ConfigLoader.printable(line), to: width - 3, unicode: kind.unicode)
    }

    /// How the last run of `schedule` ended, for its idle line.
    struct LastRun: Equatable {
        /// When it started, as `HH:MM` local time.
        var started: String
        var sources: Int
        var failed: Int
        var interrupted = false
    }

    /// `schedule`'s idle line: `Idle · next run 2026-12-01 22:23:00 CET (in 8 h 20 min) · last run 22:23: 3/3
    /// published`.
    static func idle(next: String, inSeconds: Int64, last: LastRun?, width: Int, kind: TerminalKind) -> String {
        var line = "Idle\(kind.dot)next run \(next) (in \(HumanFormat.span(seconds: inSeconds)))"
        if let last {
            line += "\(kind.dot)last run \(last.started): "
            if last.interrupted {
                line += "interrupted"
            } else if last.failed == 0 {
                line += "\(last.sources)/\(last.sources) published"
            } else {
                line += "\(last.failed) of \(last.sources) failed"
            }
        }
        return HumanFormat.cut(line, to: width - 1, unicode: kind.unicode)
    }

    /// `next-run`'s people-first line: `2026-12-01 22:23:00 CET (in 8 h 20 min)`.
    static func nextRun(_ local: WallTime, zone: String, inSeconds: Int64) -> String {
        "\(local) \(zone) (in \(HumanFormat.span(seconds: inSeconds)))"
    }

    /// A local date and time as people write it: `2026-12-01 22:23:00`.
    struct WallTime: CustomStringConvertible {
        var year, month, day, hour, minute, second: Int

        init(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int) {
            (self.year, self.month, self.day, self.hour, self.minute, self.second) =
                (year, month, day, hour, minute, second)
        }

        init(_ local: LocalTime) {
            self.init(
                year: local.year, month: local.month, day: local.day, hour: local.hour, minute: local.minute,
                second: local.second)
        }

        var description: String { "\(year)-\(two(month))-\(two(day)) \(clock)" }
        /// `22:23:00`.
        var clock: String { "\(two(hour)):\(two(minute)):\(two(second))" }
        private func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
    }
}
