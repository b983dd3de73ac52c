/// systemd's notify protocol (sd_notify(3)), spoken without libsystemd: where to send, read from the environment
/// systemd gives a `Type=notify` service, and what to send. Pure: `SystemdNotifier` does the sending.
struct NotifySettings: Equatable {
    /// `sun_path`'s bytes as the address length counts them (`UnixDatagramSender`): a filesystem path and its NUL,
    /// or NUL + an abstract name (`@name` in `NOTIFY_SOCKET`). nil: no socket, say nothing.
    var socketPath: [UInt8]?
    /// Half of `WATCHDOG_USEC`, in milliseconds: how often to send `WATCHDOG=1` (what sd_watchdog_enabled(3)
    /// advises). nil: no watchdog for this process.
    var watchdogMS: Int?
    /// Values that were ignored, and why: logged once each as WARN `notify`, never fatal.
    var problems: [String] = []

    /// The settings of a process whose pid is `pid` under `environment`.
    static func from(_ environment: [String: String], pid: Int32) -> NotifySettings {
        var settings = NotifySettings()
        guard let socket = environment["NOTIFY_SOCKET"], !socket.isEmpty else { return settings }
        let bytes = Array(socket.utf8)
        let limit = 108  // sizeof(sockaddr_un.sun_path) on Linux
        if bytes.first == UInt8(ascii: "/") {
            if bytes.count + 1 <= limit {
                settings.socketPath = bytes + [0]
            } else {
                settings.problems.append("NOTIFY_SOCKET is longer than \(limit - 1) bytes (ignored)")
            }
        } else if bytes.first == UInt8(ascii: "@") {
            if bytes.count == 1 {
                settings.problems.append("NOTIFY_SOCKET '@' names no abstract socket (ignored)")
            } else if bytes.count <= limit {
                settings.socketPath = [0] + bytes.dropFirst()
            } else {
                settings.problems.append("NOTIFY_SOCKET's abstract name is longer than \(limit - 1) bytes (ignored)")
            }
        } else {
            settings.problems.append(
                "NOTIFY_SOCKET '\(socket)' is neither an absolute path nor an @abstract name (ignored)")
        }
        guard settings.socketPath != nil else { return settings }
        settings.watchdogMS = watchdog(environment, pid: pid, problems: &settings.problems)
        return settings
    }

    /// Half of `WATCHDOG_USEC` in milliseconds (at least 1) when the watchdog is meant for `pid`.
    private static func watchdog(_ environment: [String: String], pid: Int32, problems: inout [String]) -> Int? {
        guard let word = environment["WATCHDOG_USEC"], !word.isEmpty else { return nil }
        // systemd's own bound: 0 and "infinity" (UINT64_MAX) are no watchdog.
        guard let usec = UInt64(word), usec > 0, usec < UInt64.max else {
            problems.append("WATCHDOG_USEC '\(word)' is not a positive number of microseconds (no watchdog)")
            return nil
        }
        if let owner = environment["WATCHDOG_PID"], !owner.isEmpty {
            guard let ownerPID = Int32(owner), ownerPID > 0 else {
                problems.append("WATCHDOG_PID '\(owner)' is not a process id (no watchdog)")
                return nil
            }
            // Another process's watchdog (we were started by a wrapper that kept its environment): not ours to ping.
            if ownerPID != pid { return nil }
        }
        return max(1, Int(min(usec / 2000, UInt64(Int32.max))))
    }
}

/// What `schedule` tells systemd, from its state: the datagrams' text. `systemctl status` shows the last STATUS.
struct ScheduleNotice: Equatable {
    /// The last finished run, for the idle status.
    struct LastResult: Equatable {
        /// When it started, `HH:MM` local time.
        var started: String
        var published: Int
        var unchanged: Int
        var failed: Int
        var interrupted = false
    }

    enum Phase: Equatable {
        /// Waiting; the next run's local time, as people read it.
        case idle(next: String)
        /// A run under way: sources with an outcome, of how many, how many of those failed.
        case running(done: Int, total: Int, failed: Int)
        /// SIGTERM or SIGINT: `aborting` when a run was under way.
        case stopping(signal: String, aborting: Bool)
    }

    var phase: Phase
    var last: LastResult?

    /// The STATUS= value: one line.
    var status: String {
        var text: String
        switch phase {
        case .idle(let next): text = "next run \(next)"
        case .running(let done, let total, let failed):
            text = "running: \(done) of \(total) sources done" + (failed > 0 ? ", \(failed) failed" : "")
        case .stopping(let signal, let aborting):
            return "stopping (\(signal))" + (aborting ? ": aborting the run" : "")
        }
        if let last {
            text += "; last run \(last.started): "
            text +=
                last.interrupted
                ? "interrupted"
                : "\(last.published) published, \(last.unchanged) unchanged, \(last.failed) failed"
        }
        return Self.oneLine(text)
    }

    /// `READY=1` with the status: sent once, when the schedule is set up.
    var ready: String { "READY=1\nSTATUS=\(status)" }

    var statusMessage: String { "STATUS=\(status)" }

    /// `STOPPING=1` with the status (`phase` is `.stopping`).
    var stopping: String { "STOPPING=1\nSTATUS=\(status)" }

    static let watchdog = "WATCHDOG=1"

    /// A newline would start another assignment in the datagram: control characters become spaces.
    static func oneLine(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? " " : $0 }))
    }
}
