import Glibc
@_spi(Internals) import WebToFTP

/// Progress off a terminal (journald, cron mail, a pipe): a `progress` log line per transfer running for more than
/// 30 s, every 30 s. On a terminal `TerminalDisplay` shows it live instead.
final class ProgressDisplay {
    private let loop: EventLoop
    private let log: RunLog
    private let source: () -> RunProgress
    private var timer: TimerID?

    init(loop: EventLoop, log: RunLog, source: @escaping () -> RunProgress) {
        self.loop = loop
        self.log = log
        self.source = source
    }

    func start() {
        timer = loop.scheduleTimer(afterMilliseconds: 30_000, repeating: 30_000) { [unowned self] in
            for transfer in self.source().running where transfer.elapsedMS >= 30_000 {
                var fields = [
                    RunEvent.Field("bytes", .integer(Int64(transfer.bytes))), .init("rate", .text(Self.rate(transfer))),
                ]
                if let total = transfer.total { fields.append(.init("total", .integer(Int64(total)))) }
                self.log.event(.info, source: transfer.name, "progress", fields)
            }
        }
    }

    func stop() {
        if let timer { loop.cancelTimer(timer) }
        timer = nil
    }

    /// The log line's sizes, as they always were (binary units).
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
