import Foundation
@_spi(Internals) import TestSupport
import Testing
@_spi(Internals) import WebToFTP

@testable import web2ftp

@Suite("contrib's systemd units: what they promise, and systemd-analyze verify finds nothing to say")
struct SystemdUnitsTests {
    static let contrib = OperatorDocsTests.root.appendingPathComponent("contrib")
    static let units = [
        "web2ftp.service", "web2ftp.timer", "web2ftp-schedule.service", "web2ftp@.service", "web2ftp@.timer",
    ]

    /// `Key=value` lines of a unit file (comments left out), in order.
    static func settings(_ unit: String) throws -> [(key: String, value: String)] {
        let text = try String(contentsOf: contrib.appendingPathComponent(unit), encoding: .utf8)
        return text.split(separator: "\n").compactMap { line in
            guard !line.hasPrefix("#"), let equals = line.firstIndex(of: "=") else { return nil }
            return (String(line[..<equals]), String(line[line.index(after: equals)...]))
        }
    }

    @Test("the scheduler's unit is Type=notify with a watchdog, notifications from the main process only")
    func scheduleUnit() throws {
        let settings = try Self.settings("web2ftp-schedule.service")
        let value = { (key: String) in settings.first { $0.key == key }?.value }
        #expect(value("Type") == "notify")
        #expect(value("NotifyAccess") == "main")
        #expect(value("WatchdogSec") == "60s")
        #expect(value("ExecStart")?.contains(" schedule ") == true)
    }

    @Test("web2ftp@0-4.service runs --shard 0/4: %I, systemd's unescaped instance, parses as the shard")
    func shardTemplate() throws {
        let execStart = try #require(try Self.settings("web2ftp@.service").first { $0.key == "ExecStart" }?.value)
        // systemd unescapes an instance name by turning "-" into "/" (and \xNN into a byte): what %I is.
        let unescaped = try OperatorDocsTests.shell("sh", #"systemd-escape --unescape "$1""#, ["0-4"])
        #expect(unescaped == "0/4\n")
        let words = execStart.split(separator: " ").map {
            $0.replacingOccurrences(of: "%I", with: "0/4").replacingOccurrences(of: "%i", with: "0-4")
        }
        #expect(words.first == "/usr/local/bin/web2ftp" && words.dropFirst().first == "manual", "\(words)")
        let parsed = try RunArguments.parse(Array(words.dropFirst(2))).get()
        #expect(parsed.shard == Shard(index: 0, count: 4))
        #expect(parsed.log == "/var/log/web2ftp/etl_pipeline.0-4.log")
        // The timer starts the service of the same instance (systemd's default for a timer's Unit=).
        #expect(try Self.settings("web2ftp@.timer").contains { $0.key == "OnCalendar" })
    }

    @Test("systemd-analyze verify: every unit (a shard's instance included) loads without a warning")
    func verify() throws {
        let directory = NSTemporaryDirectory() + "w2f-units-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // verify checks that ExecStart's program exists: the binary under test stands in for the installed one.
        let binary = try productPath("web2ftp")
        for unit in Self.units {
            let text = try String(contentsOf: Self.contrib.appendingPathComponent(unit), encoding: .utf8)
            try text.replacingOccurrences(of: "/usr/local/bin/web2ftp", with: binary)
                .write(toFile: directory + "/" + unit, atomically: true, encoding: .utf8)
        }
        let instances = Self.units.map { $0.replacingOccurrences(of: "@.", with: "@0-4.") }
        // Warnings (an unknown key, a value that does not parse) go to stderr with exit 0: shell() fails on either.
        let output = try OperatorDocsTests.shell(
            "sh", #"cd "$1" && shift && systemd-analyze verify "$@""#, [directory] + instances.map { "./" + $0 })
        #expect(output.isEmpty)
    }
}
