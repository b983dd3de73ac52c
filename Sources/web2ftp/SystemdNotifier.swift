import Glibc
@_spi(Internals) import Reactor
@_spi(Internals) import WebToFTP

/// Sends `ScheduleNotice`'s datagrams to systemd's notify socket, and `WATCHDOG=1` from a timer on the schedule's
/// own loop: a loop that stops turning stops the pings, and systemd restarts the service. Nothing here is fatal:
/// the first failure is logged (WARN `notify`), later ones are dropped.
final class SystemdNotifier {
    private let log: RunLog
    /// `NOTIFY_SOCKET` as given, for the warning.
    private let socket: String
    private let sender: UnixDatagramSender?
    private let watchdogMS: Int?
    private var watchdog: TimerID?
    private var warned = false
    private var lastStatus: String?
    /// STATUS lines wait for READY: the first datagram systemd reads from us is the one that says we are up.
    private var isReady = false

    /// nil when `NOTIFY_SOCKET` is unset: not under systemd (or not `Type=notify`), nothing to say.
    init?(environment: [String: String], log: RunLog) {
        let settings = NotifySettings.from(environment, pid: getpid())
        for problem in settings.problems { log.event(.warning, source: nil, "notify", [("reason", problem)]) }
        guard let path = settings.socketPath else { return nil }
        self.log = log
        socket = environment["NOTIFY_SOCKET"] ?? ""
        watchdogMS = settings.watchdogMS
        do {
            sender = try UnixDatagramSender(sunPath: path)
        } catch {
            sender = nil
            warned = true
            log.event(.warning, source: nil, "notify", [("socket", socket), ("reason", "\(error)")])
        }
    }

    /// Starts the `WATCHDOG=1` pings when systemd asked for them (`WATCHDOG_USEC`), at half its interval.
    func startWatchdog(on loop: EventLoop) {
        guard let watchdogMS, watchdog == nil else { return }
        watchdog = loop.scheduleTimer(afterMilliseconds: watchdogMS, repeating: watchdogMS) { [unowned self] in
            self.send(ScheduleNotice.watchdog)
        }
    }

    func stopWatchdog(on loop: EventLoop) {
        if let watchdog { loop.cancelTimer(watchdog) }
        watchdog = nil
    }

    func ready(_ notice: ScheduleNotice) {
        isReady = true
        lastStatus = notice.status
        send(notice.ready)
    }

    /// The STATUS line, when it changed.
    func status(_ notice: ScheduleNotice) {
        guard isReady, notice.status != lastStatus else { return }
        lastStatus = notice.status
        send(notice.statusMessage)
    }

    func stopping(_ notice: ScheduleNotice) {
        lastStatus = notice.status
        send(notice.stopping)
    }

    private func send(_ text: String) {
        guard let sender else { return }
        do {
            // A full queue (.wouldBlock) drops this message: the next status or ping carries on.
            _ = try sender.send(Array(text.utf8))
        } catch {
            guard !warned else { return }
            warned = true
            log.event(.warning, source: nil, "notify", [("socket", socket), ("reason", "\(error)")])
        }
    }
}
