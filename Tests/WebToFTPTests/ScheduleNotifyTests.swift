import Foundation
@_spi(Internals) import TestSupport
import Testing

/// A datagram socket standing in for systemd's notify socket: bound to an abstract name (`@…`) or to a filesystem
/// path; what arrives is read with the time it arrived.
final class NotifyListener {
    private let fd: Int32
    /// `NOTIFY_SOCKET`'s value for the child.
    let name: String
    private let path: String?

    init(abstract: Bool) throws {
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue | SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw TestFailure("socket: errno \(errno)") }
        let id = "w2f-notify-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        var bytes: [UInt8]
        if abstract {
            name = "@" + id
            path = nil
            bytes = [0] + Array(id.utf8)  // the kernel takes the name's length from the address length: no NUL
        } else {
            path = NSTemporaryDirectory() + id + ".sock"
            name = path!
            bytes = Array(path!.utf8) + [0]
        }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let length = socklen_t(MemoryLayout<sockaddr_un>.offset(of: \.sun_path)! + bytes.count)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard bound == 0 else {
            close(fd)
            throw TestFailure("bind \(name): errno \(errno)")
        }
    }

    deinit {
        close(fd)
        if let path { unlink(path) }
    }

    /// The next datagram, or nil when none came before `deadline`.
    func receive(before deadline: Date) -> (at: Date, text: String)? {
        while true {
            let left = deadline.timeIntervalSinceNow
            guard left > 0 else { return nil }
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, Int32(left * 1000) + 1) > 0 else { continue }
            var buffer = [UInt8](repeating: 0, count: 4096)
            let count = recv(fd, &buffer, buffer.count, 0)
            if count > 0 { return (Date(), String(decoding: buffer[..<count], as: UTF8.self)) }
        }
    }

    /// Every datagram until one satisfies `done` (included), or until `deadline`.
    func receive(until done: (String) -> Bool, before deadline: Date) -> [(at: Date, text: String)] {
        var received: [(at: Date, text: String)] = []
        while let message = receive(before: deadline) {
            received.append(message)
            if done(message.text) { break }
        }
        return received
    }
}

/// `HH:MM:SS` in UTC, `seconds` from now.
func utcTimeOfDay(in seconds: TimeInterval) -> String {
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = TimeZone(identifier: "UTC")!
    let parts = calendar.dateComponents([.hour, .minute, .second], from: Date().addingTimeInterval(seconds))
    return String(format: "%02d:%02d:%02d", parts.hour!, parts.minute!, parts.second!)
}

@Suite("schedule under systemd: the notify protocol, received on a datagram socket the test owns")
struct ScheduleNotifyTests {
    @Test(
        """
        abstract socket: READY=1 once scheduled, STATUS while running and with the last run's counts, WATCHDOG=1 at \
        half of WATCHDOG_USEC from the loop, STOPPING=1 on SIGTERM
        """)
    func abstractSocket() throws {
        try TestEnv.require(.nginxHTTP, .vsftpd)
        let scenario = try Scenario("notify")
        try scenario.writeConfig(
            "{\"s\": {\"URL\": \"\(http)/small.csv\"}, \"t\": {\"URL\": \"\(http)/small.csv\", \"PARAMS\": {}}}")
        let listener = try NotifyListener(abstract: true)
        let process = try scenario.start(
            ["schedule", "sequential", "--at", utcTimeOfDay(in: 3)],
            environment: scenario.environment.merging([
                "TZ": "UTC", "NOTIFY_SOCKET": listener.name, "WATCHDOG_USEC": "400000",
            ]) { $1 })
        defer { if process.isRunning { process.terminate() } }
        var received = listener.receive(
            until: { $0.contains("last run") }, before: Date().addingTimeInterval(20))
        let statuses = received.map { $0.text }.filter { $0.hasPrefix("STATUS=") }
        #expect(received.first?.text.hasPrefix("READY=1\nSTATUS=next run ") == true, "\(received.map { $0.text })")
        #expect(received.filter { $0.text.hasPrefix("READY=1") }.count == 1)
        #expect(statuses.contains { $0.hasPrefix("STATUS=running: 0 of 2 sources done") }, "\(statuses)")
        #expect(
            statuses.last?.contains("; last run ") == true
                && statuses.last?.hasSuffix(": 2 published, 0 unchanged, 0 failed") == true, "\(statuses)")
        #expect(scenario.log.contains(" summary "), "\(scenario.log)")
        // Idle again: the pings go on; then SIGTERM.
        received += listener.receive(until: { _ in false }, before: Date().addingTimeInterval(1.5))
        kill(process.processIdentifier, SIGTERM)
        let stopping = listener.receive(
            until: { $0.hasPrefix("STOPPING=1") }, before: Date().addingTimeInterval(10))
        received += stopping
        #expect(stopping.last?.text == "STOPPING=1\nSTATUS=stopping (SIGTERM)", "\(stopping.map { $0.text })")
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        // 400 ms watchdog: a ping every 200 ms, from READY to STOPPING, through the run.
        let pings = received.filter { $0.text == "WATCHDOG=1" }.map { $0.at }
        let span = (received.last?.at).map { $0.timeIntervalSince(received[0].at) } ?? 0
        let expected = span / 0.2
        #expect(
            expected > 10 && Double(pings.count) >= expected * 0.6 && Double(pings.count) <= expected * 1.2 + 2,
            "\(pings.count) pings in \(span) s")
        // Their spacing, as received (a loaded machine delays some; the median is the timer's).
        let gaps = zip(pings.dropFirst(), pings).map { $0.timeIntervalSince($1) }.sorted()
        #expect(!gaps.isEmpty && (0.15...0.3).contains(gaps[gaps.count / 2]), "gaps between pings: \(gaps)")
        #expect(!scenario.log.contains(" notify "), "\(scenario.log)")
    }

    @Test(
        """
        filesystem socket: READY=1 and STOPPING=1; no pings when WATCHDOG_PID names another process; \
        an unusable WATCHDOG_USEC is a WARN, not a crash
        """)
    func pathSocket() throws {
        try TestEnv.require(.nginxHTTP, .vsftpd)
        let scenario = try Scenario("notify-path")
        try scenario.writeConfig("{\"s\": {\"URL\": \"\(http)/small.csv\"}}")
        let cases = [(["WATCHDOG_USEC": "200000", "WATCHDOG_PID": "1"], false), (["WATCHDOG_USEC": "soon"], true)]
        for (watchdog, warning) in cases {
            let listener = try NotifyListener(abstract: false)
            var environment = scenario.environment.merging(watchdog) { $1 }
            environment["NOTIFY_SOCKET"] = listener.name
            environment["TZ"] = "UTC"
            let process = try scenario.start(
                ["schedule", "parallel", "--at", utcTimeOfDay(in: 3600)], environment: environment)
            defer { if process.isRunning { process.terminate() } }
            let ready = listener.receive(before: Date().addingTimeInterval(10))
            #expect(ready?.text.hasPrefix("READY=1\nSTATUS=next run ") == true, "\(String(describing: ready))")
            let quiet = listener.receive(until: { _ in false }, before: Date().addingTimeInterval(1))
            #expect(quiet.isEmpty, "\(quiet.map { $0.text })")
            kill(process.processIdentifier, SIGTERM)
            let stopping = listener.receive(before: Date().addingTimeInterval(10))
            #expect(stopping?.text == "STOPPING=1\nSTATUS=stopping (SIGTERM)")
            process.waitUntilExit()
            #expect(process.terminationStatus == 0)
            #expect(scenario.log.contains("WARN notify reason=\"WATCHDOG_USEC 'soon'") == warning, "\(scenario.log)")
        }
    }

    @Test("a notify socket nobody listens on: one WARN, and the scheduler stays up and stops as usual")
    func nobodyListening() throws {
        try TestEnv.require(.nginxHTTP, .vsftpd)
        let scenario = try Scenario("notify-gone")
        try scenario.writeConfig("{\"s\": {\"URL\": \"\(http)/small.csv\"}}")
        let process = try scenario.start(
            ["schedule", "parallel", "--at", utcTimeOfDay(in: 3600)],
            environment: scenario.environment.merging([
                "TZ": "UTC", "NOTIFY_SOCKET": scenario.directory + "/no-such.sock", "WATCHDOG_USEC": "100000",
            ]) { $1 })
        defer { if process.isRunning { process.terminate() } }
        usleep(1_500_000)
        #expect(process.isRunning, "the scheduler must stay up: \(scenario.log)")
        process.terminate()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let warnings = scenario.log.split(separator: "\n").filter { $0.contains(" notify ") }
        #expect(warnings.count == 1, "\(scenario.log)")
        #expect(warnings.first?.contains("sendto failed: No such file or directory (ENOENT)") == true, "\(warnings)")
    }
}
