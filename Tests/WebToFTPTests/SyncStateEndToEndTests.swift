import Foundation
@_spi(Internals) import TestSupport
import Testing

/// Issue #18 part 2 end to end: the binary against nginx (which sends ETag and Last-Modified for its files) and
/// vsftpd, with `-vv` so that the run's own trace says which FTP commands it sent.
@Suite("unchanged sources skipped, end to end against nginx and vsftpd")
struct SyncStateEndToEndTests {
    init() throws {
        try TestEnv.require(.nginxHTTP, .vsftpd)
    }

    /// A scenario with a source file of its own on nginx and a state file in its directory.
    struct Sync {
        let scenario: Scenario
        let source: String
        var state: String { scenario.directory + "/state.json" }

        init(_ label: String, content: String = "a,b\n1,2\n") throws {
            scenario = try Scenario(label)
            source = "sync-\(UInt32.random(in: 0...UInt32.max)).csv"
            try write(content)
        }

        func write(_ content: String) throws {
            try content.write(toFile: TestEnv.wwwDirectory + "/" + source, atomically: true, encoding: .utf8)
        }

        /// `manual sequential -vv --state STATE` plus `extra`.
        func run(_ extra: [String] = [], environment: [String: String]? = nil) throws -> ProductRun {
            try scenario.run("sequential", ["-vv", "--state", state] + extra, environment: environment)
        }

        var summary: [String: Any] {
            get throws {
                let data = try Data(contentsOf: URL(fileURLWithPath: scenario.directory + "/summary.json"))
                return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            }
        }

        func status(of name: String) throws -> String? {
            let sources = try #require(try summary["sources"] as? [[String: Any]])
            return sources.first { $0["name"] as? String == name }?["status"] as? String
        }

        func published(_ name: String) -> String? {
            FileManager.default.contents(atPath: scenario.target + "/" + name).map {
                String(decoding: $0, as: UTF8.self)
            }
        }
    }

    static func stors(_ run: ProductRun) -> [String] {
        run.error.split(separator: "\n").filter { $0.contains("proto=ftp dir=> line=\"STOR ") }.map(String.init)
    }

    @Test("a second run makes no STOR (304); a changed source is published again; the state file is 0600")
    func secondRunSkips() throws {
        let sync = try Sync("sync-skip")
        try sync.scenario.writeConfig(#"{"a": {"URL": "\#(http)/\#(sync.source)"}}"#)
        let first = try sync.run()
        #expect(first.status == 0, "\(first.error)")
        #expect(Self.stors(first).count == 1)
        #expect(first.error.contains("INFO state"), "a first run says it has no state yet")
        let attributes = try FileManager.default.attributesOfItem(atPath: sync.state)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)

        let second = try sync.run()
        #expect(second.status == 0, "\(second.error)")
        #expect(Self.stors(second).isEmpty, "\(second.error)")
        #expect(second.error.contains("unchanged reason=not-modified"))
        #expect(second.error.contains("succeeded=1 failed=0 unchanged=1"))
        #expect(try sync.status(of: "a") == "unchanged")
        #expect(try sync.summary["unchanged"] as? Int == 1)

        // nginx's validators are the file's mtime and size: a new content (another size) is a 200.
        try sync.write("a,b\n1,2\n3,4\n")
        let third = try sync.run()
        #expect(third.status == 0, "\(third.error)")
        #expect(Self.stors(third).count == 1)
        #expect(sync.published("a.csv") == "a,b\n1,2\n3,4\n")
        #expect(try sync.status(of: "a") == "published")
    }

    @Test("a published file deleted on the server is restored; the same bytes again (a 200) are not uploaded")
    func restoredAndIdentical() throws {
        let sync = try Sync("sync-restore")
        try sync.scenario.writeConfig(#"{"a": {"URL": "\#(http)/\#(sync.source)"}}"#)
        #expect(try sync.run().status == 0)
        try FileManager.default.removeItem(atPath: sync.scenario.target + "/a.csv")
        let restored = try sync.run()
        #expect(restored.status == 0, "\(restored.error)")
        #expect(Self.stors(restored).count == 1)
        #expect(restored.error.contains("republish"))
        #expect(sync.published("a.csv") == "a,b\n1,2\n")

        // The same bytes under a new mtime: nginx's ETag changes, the body does not. The temporary upload is
        // deleted, the published file left as it was (its inode too).
        let before = try FileManager.default.attributesOfItem(atPath: sync.scenario.target + "/a.csv")
        Thread.sleep(forTimeInterval: 1.1)
        try sync.write("a,b\n1,2\n")
        let identical = try sync.run()
        #expect(identical.status == 0, "\(identical.error)")
        #expect(identical.error.contains("unchanged reason=identical"), "\(identical.error)")
        #expect(!identical.error.contains("line=\"RNFR "))
        let after = try FileManager.default.attributesOfItem(atPath: sync.scenario.target + "/a.csv")
        #expect(before[.systemFileNumber] as? Int == after[.systemFileNumber] as? Int)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: sync.scenario.target)
        #expect(leftovers == ["a.csv"])
    }

    @Test("a corrupt state file: WARN and a full run; --force and SKIP_UNCHANGED false publish anyway")
    func corruptForceAndOptOut() throws {
        let sync = try Sync("sync-force")
        try sync.scenario.writeConfig(
            #"{"a": {"URL": "\#(http)/\#(sync.source)"}, "b": {"URL": "\#(http)/\#(sync.source)", "SKIP_UNCHANGED": false}}"#
        )
        try "{not json".write(toFile: sync.state, atomically: true, encoding: .utf8)
        let corrupt = try sync.run()
        #expect(corrupt.status == 0, "\(corrupt.error)")
        #expect(corrupt.error.contains("WARN state"))
        #expect(Self.stors(corrupt).count == 2)

        let again = try sync.run()
        #expect(again.status == 0, "\(again.error)")
        #expect(Self.stors(again).count == 1, "b opts out")
        #expect(try sync.status(of: "a") == "unchanged")
        #expect(try sync.status(of: "b") == "published")

        let forced = try sync.run(["--force"])
        #expect(forced.status == 0, "\(forced.error)")
        #expect(Self.stors(forced).count == 2)
    }

    @Test("--only keeps the other sources' records; --dry-run, check and preview never write the state file")
    func onlyMergesDryRunDoesNotWrite() throws {
        let sync = try Sync("sync-only")
        try sync.scenario.writeConfig(
            #"{"a": {"URL": "\#(http)/\#(sync.source)"}, "b": {"URL": "\#(http)/\#(sync.source)", "TARGET": "b.csv"}}"#)
        for arguments in [["--dry-run"]] {
            let run = try sync.run(arguments)
            #expect(run.status == 0, "\(run.error)")
        }
        let config = sync.scenario.directory + "/config.json"
        _ = try runProduct("web2ftp", ["check", "--config", config], environment: sync.scenario.environment)
        _ = try runProduct("web2ftp", ["preview", "a", "--config", config], environment: sync.scenario.environment)
        #expect(!FileManager.default.fileExists(atPath: sync.state))

        #expect(try sync.run().status == 0)
        try sync.write("changed,content\n1,2\n")
        let only = try sync.run(["--only", "a"])
        #expect(only.status == 0, "\(only.error)")
        #expect(Self.stors(only).count == 1)
        let state = try String(contentsOfFile: sync.state, encoding: .utf8)
        #expect(state.contains("\"a\"") && state.contains("\"b\""), "b's record kept")
        // b's record is its first publication: the source changed since, so b is published, a is not.
        let all = try sync.run()
        #expect(Self.stors(all).count == 1)
        #expect(try sync.status(of: "a") == "unchanged")
        #expect(try sync.status(of: "b") == "published")
    }

    @Test("the default state file is under XDG_STATE_HOME, one per config")
    func defaultPath() throws {
        let sync = try Sync("sync-default")
        try sync.scenario.writeConfig(#"{"a": {"URL": "\#(http)/\#(sync.source)"}}"#)
        let home = freshStateHome()
        let environment = sync.scenario.environment.merging(["XDG_STATE_HOME": home]) { $1 }
        let first = try sync.scenario.run("sequential", ["-vv"], environment: environment)
        #expect(first.status == 0, "\(first.error)")
        let files = try FileManager.default.contentsOfDirectory(atPath: home + "/web2ftp")
        #expect(files.count == 1 && files[0].hasSuffix(".json"))
        let second = try sync.scenario.run("sequential", ["-vv"], environment: environment)
        #expect(Self.stors(second).isEmpty, "\(second.error)")
    }

    @Test("a server without validators: no conditional request; the same body again is identical, not uploaded")
    func withoutValidators() async throws {
        let requests = Locked<[String]>([])
        let (thread, port) = try await scriptedServer { _, request in
            requests.withLock { $0.append(request) }
            return [.send("HTTP/1.1 200 OK\r\nContent-Type: text/csv\r\nContent-Length: 8\r\n\r\na,b\n1,2\n")]
        }
        defer { thread.shutdown() }
        let sync = try Sync("sync-novalidators")
        try sync.scenario.writeConfig(#"{"a": {"URL": "http://127.0.0.1:\#(port)/a.csv"}}"#)
        #expect(try sync.run().status == 0)
        let second = try sync.run()
        #expect(second.status == 0, "\(second.error)")
        #expect(second.error.contains("unchanged reason=identical"), "\(second.error)")
        #expect(!second.error.contains("line=\"RNFR "))
        #expect(
            !requests.value.contains {
                $0.lowercased().contains("if-none-match") || $0.lowercased().contains("if-modified-since")
            })
        #expect(try FileManager.default.contentsOfDirectory(atPath: sync.scenario.target) == ["a.csv"])
    }

    @Test("a 304 to a request that was not conditional is still a failure")
    func unaskedNotModified() async throws {
        let (thread, port) = try await scriptedServer { _, _ in
            [.send("HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n")]
        }
        defer { thread.shutdown() }
        let sync = try Sync("sync-unasked304")
        try sync.scenario.writeConfig(#"{"a": {"URL": "http://127.0.0.1:\#(port)/a.csv"}}"#)
        let run = try sync.run(["--retries", "0"])
        #expect(run.status == 1, "\(run.error)")
        #expect(run.error.contains("HTTP 304"), "\(run.error)")
    }
}
