import Testing

@testable import web2ftp

@Suite("systemd notify: NOTIFY_SOCKET and WATCHDOG_USEC read, the datagrams' text built (no socket)")
struct SystemdNotifyTests {
    @Test("a filesystem path is sent with its NUL; an @abstract name as a leading NUL, the name, and no trailing NUL")
    func socketAddress() {
        #expect(
            NotifySettings.from(["NOTIFY_SOCKET": "/run/systemd/notify"], pid: 7).socketPath
                == Array("/run/systemd/notify".utf8) + [0])
        #expect(
            NotifySettings.from(["NOTIFY_SOCKET": "@sd-notify/x"], pid: 7).socketPath
                == [0] + Array("sd-notify/x".utf8))
        // The longest that fit sockaddr_un's 108 bytes, and one more.
        let path = "/" + String(repeating: "p", count: 106)
        #expect(NotifySettings.from(["NOTIFY_SOCKET": path], pid: 7).socketPath?.count == 108)
        #expect(NotifySettings.from(["NOTIFY_SOCKET": path + "p"], pid: 7).socketPath == nil)
        let name = "@" + String(repeating: "a", count: 107)
        #expect(NotifySettings.from(["NOTIFY_SOCKET": name], pid: 7).socketPath?.count == 108)
        #expect(NotifySettings.from(["NOTIFY_SOCKET": name + "a"], pid: 7).socketPath == nil)
    }

    @Test(
        "unusable values are ignored with a reason, never a crash",
        arguments: [
            (["NOTIFY_SOCKET": "relative/path"], "neither an absolute path nor an @abstract name"),
            (["NOTIFY_SOCKET": "vsock:2:1234"], "neither an absolute path nor an @abstract name"),
            (["NOTIFY_SOCKET": "@"], "names no abstract socket"),
            (["NOTIFY_SOCKET": "/" + String(repeating: "p", count: 200)], "longer than 107 bytes"),
            (["NOTIFY_SOCKET": "/n", "WATCHDOG_USEC": "abc"], "WATCHDOG_USEC 'abc' is not a positive number"),
            (["NOTIFY_SOCKET": "/n", "WATCHDOG_USEC": "0"], "WATCHDOG_USEC '0' is not a positive number"),
            (["NOTIFY_SOCKET": "/n", "WATCHDOG_USEC": "-5"], "WATCHDOG_USEC '-5' is not a positive number"),
            (["NOTIFY_SOCKET": "/n", "WATCHDOG_USEC": "18446744073709551615"], "is not a positive number"),
            (["NOTIFY_SOCKET": "/n", "WATCHDOG_USEC": "99999999999999999999"], "is not a positive number"),
            (["NOTIFY_SOCKET": "/n", "WATCHDOG_USEC": "1000000", "WATCHDOG_PID": "x"], "WATCHDOG_PID 'x' is not"),
        ])
    func ignored(environment: [String: String], problem: String) {
        let settings = NotifySettings.from(environment, pid: 7)
        #expect(settings.watchdogMS == nil)
        #expect(settings.problems.count == 1)
        #expect(settings.problems.first?.contains(problem) == true, "\(settings.problems)")
    }

    @Test("the watchdog pings at half of WATCHDOG_USEC, only for the process WATCHDOG_PID names, only with a socket")
    func watchdog() {
        let socket = ["NOTIFY_SOCKET": "@n"]
        #expect(NotifySettings.from(socket, pid: 7) == NotifySettings(socketPath: [0, 110], watchdogMS: nil))
        #expect(NotifySettings.from(socket.merging(["WATCHDOG_USEC": "60000000"]) { $1 }, pid: 7).watchdogMS == 30_000)
        #expect(NotifySettings.from(socket.merging(["WATCHDOG_USEC": "1"]) { $1 }, pid: 7).watchdogMS == 1)
        let mine = socket.merging(["WATCHDOG_USEC": "2000000", "WATCHDOG_PID": "7"]) { $1 }
        #expect(NotifySettings.from(mine, pid: 7) == NotifySettings(socketPath: [0, 110], watchdogMS: 1000))
        // Another process's watchdog (a wrapper kept its environment): silently not ours.
        #expect(NotifySettings.from(mine, pid: 8) == NotifySettings(socketPath: [0, 110], watchdogMS: nil))
        // No socket: nothing to send to, nothing to say about the rest.
        #expect(NotifySettings.from(["WATCHDOG_USEC": "abc"], pid: 7) == NotifySettings())
        #expect(NotifySettings.from(["NOTIFY_SOCKET": ""], pid: 7) == NotifySettings())
    }

    @Test("READY, STATUS, WATCHDOG and STOPPING datagrams from the schedule's state")
    func messages() {
        let last = ScheduleNotice.LastResult(started: "22:23", published: 9, unchanged: 2, failed: 1)
        let idle = ScheduleNotice(phase: .idle(next: "2026-12-02 22:23:00 UTC"), last: nil)
        #expect(idle.ready == "READY=1\nSTATUS=next run 2026-12-02 22:23:00 UTC")
        #expect(
            ScheduleNotice(phase: .idle(next: "2026-12-02 22:23:00 UTC"), last: last).statusMessage
                == "STATUS=next run 2026-12-02 22:23:00 UTC; last run 22:23: 9 published, 2 unchanged, 1 failed")
        #expect(
            ScheduleNotice(phase: .running(done: 3, total: 12, failed: 0), last: nil).statusMessage
                == "STATUS=running: 3 of 12 sources done")
        #expect(
            ScheduleNotice(phase: .running(done: 3, total: 12, failed: 1), last: last).status
                == "running: 3 of 12 sources done, 1 failed; last run 22:23: 9 published, 2 unchanged, 1 failed")
        var interrupted = last
        interrupted.interrupted = true
        #expect(
            ScheduleNotice(phase: .idle(next: "x"), last: interrupted).status
                == "next run x; last run 22:23: interrupted")
        #expect(
            ScheduleNotice(phase: .stopping(signal: "SIGTERM", aborting: false), last: last).stopping
                == "STOPPING=1\nSTATUS=stopping (SIGTERM)")
        #expect(
            ScheduleNotice(phase: .stopping(signal: "SIGINT", aborting: true), last: nil).stopping
                == "STOPPING=1\nSTATUS=stopping (SIGINT): aborting the run")
        #expect(ScheduleNotice.watchdog == "WATCHDOG=1")
        // A newline in the status would start another assignment.
        #expect(
            ScheduleNotice(phase: .idle(next: "a\nWATCHDOG=1\r"), last: nil).statusMessage
                == "STATUS=next run a WATCHDOG=1 ")
    }
}
