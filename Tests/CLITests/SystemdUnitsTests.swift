import Foundation
@_spi(Internals) import TestSupport
import Testing
@_spi(Internals) import WebToFTP

@testable import web2ftp

@Suite("contrib's systemd units: what they promise, and systemd-analyze verify finds nothing to say")
struct SystemdUnitsTests {
    static let contrib = OperatorDocsTests.root.appendingPathComponent("contrib")
    static let units = ["web2ftp.service", "web2ftp.timer", "web2ftp-schedule.service"]

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

    @Test("systemd-analyze verify: every unit loads without a warning")
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
        // Warnings (an unknown key, a value that does not parse) go to stderr with exit 0: shell() fails on either.
        let output = try OperatorDocsTests.shell(
            "sh", #"cd "$1" && shift && systemd-analyze verify "$@""#, [directory] + Self.units.map { "./" + $0 })
        #expect(output.isEmpty)
    }
}
