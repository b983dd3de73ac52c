import Foundation
@_spi(Internals) import TestSupport
import Testing

@testable import web2ftp

/// A scratch directory for one CLI test: a config, and whatever the command may (or must not) write there. Removed
/// when the test lets go of it.
final class Scratch {
    let directory: String

    init(_ label: String) throws {
        directory = NSTemporaryDirectory() + "w2f-cli-\(label)-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }

    func write(_ name: String, _ text: String, permissions: Int = 0o644) throws {
        try text.write(toFile: directory + "/" + name, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: permissions], ofItemAtPath: directory + "/" + name)
    }

    func read(_ name: String) -> String? {
        FileManager.default.contents(atPath: directory + "/" + name).map { String(decoding: $0, as: UTF8.self) }
    }

    var files: [String] { ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted() }

    /// `web2ftp ARGUMENTS` run in this directory (through `--config`/`--log` paths under it), the FTP variables
    /// cleared unless `environment` gives them, HOME here (no ~/.netrc of the machine's).
    func run(_ arguments: [String], environment: [String: String] = [:]) throws -> ProductRun {
        var base = ["FTPHOST": "", "FTPUSER": "", "FTPPASS": "", "FTPTARGET": "", "FTPTLS": "", "HOME": directory]
        base.merge(environment) { $1 }
        return try runProduct("web2ftp", arguments, environment: base)
    }

    func path(_ name: String) -> String { directory + "/" + name }
}

let nginx = "http://127.0.0.1:\(TestEnv.httpPort)"

@Suite("web2ftp check: the config offline, as nginx -t")
struct CheckCommandTests {
    @Test("a good config: `FILE: N sources OK`, exit 0, no FTP variables needed, nothing written")
    func good() throws {
        let scratch = try Scratch("check-ok")
        try scratch.write(
            "sources.json",
            #"{"a": {"URL": "http://example.invalid/a.csv"}, "b": {"URL": "https://example.invalid/b.csv"}}"#)
        let run = try scratch.run(["check", "--config", scratch.path("sources.json")])
        #expect(run.status == 0, "\(run.error)")
        #expect(run.output == scratch.path("sources.json") + ": 2 sources OK\n")
        #expect(scratch.files == ["sources.json"])
        // The default config name, and --config=PATH.
        let other = try scratch.run(["check", "--config=" + scratch.path("sources.json")])
        #expect(other.status == 0)
    }

    @Test("every problem, each FILE:LINE:COLUMN under the file's real name, exit 2; nothing written")
    func problems() throws {
        let scratch = try Scratch("check-bad")
        try scratch.write(
            "prod.json",
            """
            {"a": {"URL": "http://e/a.csv", "PARAMS": {"sepp": ";"}},
             "b": {"URL": 5, "TARGETT": "x.csv"}}
            """)
        let run = try scratch.run(["check", "--config", scratch.path("prod.json")])
        #expect(run.status == 2)
        let file = scratch.path("prod.json")
        for expected in [
            "\(file):1:33: source \"a\": unknown PARAMS key 'sepp' — did you mean 'sep'?",
            "\(file):2:8: source \"b\": URL must be a string",
            "\(file):2:18: source \"b\": unknown key \"TARGETT\" — did you mean \"TARGET\"?",
            "3 problems",
        ] {
            #expect(run.error.contains(expected), "missing \(expected) in \(run.error)")
        }
        #expect(!run.error.contains("config.json"))
        #expect(!run.error.contains("supported:"), "the whole key list instead of a suggestion")
        try scratch.write("broken.json", "{\n  \"a\": {\"URL\": }\n}")
        let broken = try scratch.run(["check", "--config", scratch.path("broken.json")])
        #expect(broken.status == 2)
        #expect(broken.error.hasPrefix(scratch.path("broken.json") + ":2:"), "\(broken.error)")
        #expect(broken.error.contains("not valid JSON"))
        #expect(scratch.files == ["broken.json", "prod.json"])
    }

    @Test("--env checks the FTP variables too; without it they are not needed")
    func env() throws {
        let scratch = try Scratch("check-env")
        try scratch.write("config.json", #"{"a": {"URL": "http://e/a.csv"}}"#)
        let config = ["--config", scratch.path("config.json")]
        let missing = try scratch.run(["check", "--env"] + config)
        #expect(missing.status == 2)
        #expect(missing.error.contains("FTPHOST is not set") && missing.error.contains("FTPPASS is not set"))
        let set = ["FTPHOST": "ftpes://ftp.example.invalid", "FTPUSER": "u", "FTPPASS": "p", "FTPTARGET": "/in"]
        let good = try scratch.run(["check", "--env"] + config, environment: set)
        #expect(good.status == 0, "\(good.error)")
        #expect(good.output.hasSuffix("1 source OK, FTP variables OK\n"))
    }
}

@Suite("web2ftp preview: one source, transformed, its first rows")
struct PreviewCommandTests {
    init() throws { try TestEnv.require(.nginxHTTP) }

    static let config = """
        {"small": {"URL": "\(nginx)/small.csv", "PARAMS": {"usecols": ["name", "id"]}},
         "large": {"URL": "\(nginx)/large.csv"},
         "picked": {"URL": "\(nginx)/large.csv", "PARAMS": {"usecols": ["label", "id"]}},
         "gone": {"URL": "\(nginx)/gone.csv"}}
        """

    @Test("stdout gets the header and the first 20 rows by default, transformed; counters on stderr; no state")
    func defaultRows() throws {
        let scratch = try Scratch("preview")
        try scratch.write("config.json", Self.config)
        let run = try scratch.run(["preview", "picked", "--config", scratch.path("config.json")])
        #expect(run.status == 0, "\(run.error)")
        let lines = run.output.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 22 && lines.last == "", "\(run.output)")
        #expect(lines[0] == "id,label" && lines[1] == "1,row-00000001" && lines[20] == "20,row-00000020")
        #expect(run.error.contains("[picked] preview rows_shown=20 "), "\(run.error)")
        #expect(run.error.contains(" rows_in="))
        // It stopped downloading: far less than the file's 735 kB came in.
        let bytesIn = run.error.firstMatch(of: /bytes_in=(\d+)/).flatMap { Int($0.1) } ?? .max
        let size = try FileManager.default.attributesOfItem(atPath: TestEnv.wwwDirectory + "/large.csv")[.size] as! Int
        #expect(bytesIn < size / 2, "\(bytesIn) of \(size) bytes downloaded")
        #expect(scratch.files == ["config.json"], "preview wrote state: \(scratch.files)")
        // No FTP variables were set (Scratch clears them).
        let small = try scratch.run(["preview", "small", "--config=" + scratch.path("config.json")])
        // usecols keeps the file's order, as pandas does.
        #expect(small.output == "id,name\n1,Alice\n2,\"Bob, Jr.\"\n3,\"Quote \"\"q\"\"\"\n", "\(small.output)")
    }

    @Test("a compressed source is shown as CSV, as the run publishes it: a .csv.gz, a zip member, gzip coding")
    func compressed() throws {
        try TestEnv.require(.nginxHTTP)
        let scratch = try Scratch("preview-gz")
        try scratch.write(
            "config.json",
            """
            {"gz": {"URL": "\(nginx)/small.csv.gz"},
             "member": {"URL": "\(nginx)/two.zip", "PARAMS": {"compression": {"method": "zip", "name": "small.csv"}}},
             "coded": {"URL": "\(nginx)/gzip/large.csv", "PARAMS": {"usecols": ["id"]}}}
            """)
        let small = try String(contentsOfFile: TestEnv.wwwDirectory + "/small.csv", encoding: .utf8)
        for name in ["gz", "member"] {
            let run = try scratch.run(["preview", name, "--config", scratch.path("config.json"), "--rows", "all"])
            #expect(run.status == 0 && run.output == small, "\(name): \(run.error)")
        }
        let coded = try scratch.run(["preview", "coded", "--config", scratch.path("config.json"), "--rows", "2"])
        #expect(coded.status == 0 && coded.output == "id\n1\n2\n", "\(coded.output) \(coded.error)")
    }

    @Test("--rows N and all; -o FILE written whole under its name, as FILE.part-PID meanwhile")
    func rowsAndOutput() throws {
        let scratch = try Scratch("preview-o")
        try scratch.write("config.json", Self.config)
        let config = ["--config", scratch.path("config.json")]
        let three = try scratch.run(["preview", "large", "--rows", "3"] + config)
        #expect(three.output == "id,value,label\n1,7919,row-00000001\n2,15838,row-00000002\n3,23757,row-00000003\n")
        let all = try scratch.run(["preview", "large", "--rows=all", "-o", scratch.path("all.csv")] + config)
        #expect(all.status == 0, "\(all.error)")
        #expect(all.output.isEmpty)
        #expect(
            FileManager.default.contents(atPath: scratch.path("all.csv"))
                == FileManager.default.contents(atPath: TestEnv.wwwDirectory + "/large.csv"))
        #expect(scratch.files == ["all.csv", "config.json"])
        let bad = try scratch.run(["preview", "large", "--rows", "some"] + config)
        #expect(bad.status == 2 && bad.error.contains("--rows 'some' is not a number of rows or all"))
    }

    @Test("exit codes as get's: 1 for a failed download (no output file left), 2 for an unknown source")
    func failures() throws {
        let scratch = try Scratch("preview-fail")
        try scratch.write("config.json", Self.config)
        let config = ["--config", scratch.path("config.json")]
        let gone = try scratch.run(["preview", "gone", "-o", scratch.path("out.csv")] + config)
        #expect(gone.status == 1)
        #expect(gone.error.contains("HTTP 404 Not Found"))
        #expect(scratch.files == ["config.json"])
        let unknown = try scratch.run(["preview", "lage"] + config)
        #expect(unknown.status == 2)
        #expect(unknown.error.contains("no source 'lage'") && unknown.error.contains("did you mean 'large'?"))
        let none = try scratch.run(["preview"] + config)
        #expect(none.status == 2)
    }
}

@Suite("PreviewRows: where a preview stops")
struct PreviewRowsTests {
    @Test(
        "line ends outside quotes, in any chunks",
        arguments: [
            ("a\nb\nc\n", 2, "a\nb\n"),
            ("a\n\"x\ny\"\nc\n", 2, "a\n\"x\ny\"\n"),
            ("a\n\"x\"\"\ny\"\nc\n", 2, "a\n\"x\"\"\ny\"\n"),
            ("a\r\nb\r\nc\r\n", 1, "a\r\n"),
            ("a\nb", 5, "a\nb"),
            ("a\nb\n", 0, ""),
        ])
    func cut(input: String, lines: Int, kept: String) {
        let bytes = Array(input.utf8)
        for chunk in [1, 2, bytes.count + 1] {
            var rows = PreviewRows(lines: lines)
            var out: [UInt8] = []
            var start = 0
            while start < bytes.count {
                let piece = bytes[start..<min(start + chunk, bytes.count)]
                out += piece.prefix(rows.take(piece))
                start += chunk
            }
            #expect(String(decoding: out, as: UTF8.self) == kept, "chunks of \(chunk)")
        }
        var all = PreviewRows(lines: nil)
        #expect(all.take(bytes) == bytes.count && !all.complete)
    }

    @Test("the quote character is the one of the bytes counted")
    func ownQuote() {
        var rows = PreviewRows(lines: 1, quote: UInt8(ascii: "'"))
        let bytes = Array("'a\nb'\nc\n".utf8)
        #expect(rows.take(bytes) == 6 && rows.complete)
    }
}
