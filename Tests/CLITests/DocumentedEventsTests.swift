import Foundation
@_spi(Internals) import TestSupport
import Testing

@Suite("What --help and the README promise, checked against the code")
struct DocumentedEventsTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// Every event name the sources log: the string literals in the name position of `.event(level, source: …, NAME`
    /// (a conditional's two names both), and `warnOnStderr("NAME"`.
    static func loggedEvents() throws -> Set<String> {
        var names: Set<String> = []
        let sources = FileManager.default.enumerator(atPath: root.appendingPathComponent("Sources").path)!
        let call = try NSRegularExpression(pattern: #"\.event\(\s*[^,]+,\s*source:\s*[^,]+,\s*([^,)\[]+)"#)
        let direct = try NSRegularExpression(pattern: #"(?:warnOnStderr\(|name: )\s*"([a-z_]+)""#)
        let literal = try NSRegularExpression(pattern: #""([a-z_]+)"#)
        for case let path as String in sources where path.hasSuffix(".swift") {
            let text = try String(contentsOf: root.appendingPathComponent("Sources/" + path), encoding: .utf8)
            let whole = NSRange(text.startIndex..., in: text)
            for match in call.matches(in: text, range: whole) + direct.matches(in: text, range: whole) {
                let expression = String(text[Range(match.range(at: 1), in: text)!])
                let expressionRange = NSRange(expression.startIndex..., in: expression)
                for name in literal.matches(in: expression, range: expressionRange) {
                    names.insert(String(expression[Range(name.range(at: 1), in: expression)!]))
                }
            }
        }
        return names
    }

    @Test("every event the code logs is in the README's list of log events")
    func everyEventDocumented() throws {
        let names = try Self.loggedEvents()
        // The scan itself works: it finds the events it must.
        for known in ["published", "failed", "summary", "dry_run_summary", "failed_summary", "attempt", "trace"] {
            #expect(names.contains(known), "the scan missed \(known): \(names.sorted())")
        }
        let readme = try String(contentsOf: Self.root.appendingPathComponent("README.md"), encoding: .utf8)
        let list = try #require(readme.range(of: "Events: `run mode="))
        let events = String(readme[list.lowerBound...].prefix(6000)).replacingOccurrences(of: "\n", with: " ")
        for name in names.sorted() {
            #expect(events.contains("`\(name) ") || events.contains("`\(name)`"), "README does not list `\(name)`")
        }
        for old in ["rate_bps", "throughput_bps"] { #expect(!events.contains(old), "README still says \(old)") }
    }

    @Test("--help says what --ftp-timeout's three defaults are")
    func ftpTimeoutHelp() throws {
        let run = try runProduct("web2ftp", ["--help"])
        let help = run.output.replacingOccurrences(of: #"\s+"#, with: " ", options: .regularExpression)
        #expect(help.contains("--ftp-timeout SECONDS sets all three FTP timeouts to SECONDS; by default connecting"))
        #expect(help.contains("connecting may take 15 s, a reply 30 s, and an upload may stall for 60 s"), "\(help)")
        #expect(help.contains("next-run [--at HH:MM]... [--now UNIX] [--count N] [--unix]"))
    }
}
