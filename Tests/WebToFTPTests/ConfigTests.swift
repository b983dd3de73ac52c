import Foundation
@_spi(Internals) import TLS
import Testing

@_spi(Internals) @testable import WebToFTP

let runStart = LocalTime(
    year: 2026, month: 11, day: 26, hour: 22, minute: 23, second: 0, millisecond: 0, utcOffset: 3600)

@Suite("JSON parser")
struct JSONTests {
    @Test("values of every kind, escapes, nesting")
    func values() throws {
        let value = try JSONParser.parse(#" {"a": [1, -2.5e3, true, false, null], "b": "x\"\u00e9\ud83d\ude00\n"} "#)
        #expect(
            value
                == .object([
                    (
                        "a",
                        .array([.number(1, integer: 1), .number(-2500, integer: nil), .bool(true), .bool(false), .null])
                    ),
                    ("b", .string("x\"é😀\n")),
                ]))
    }

    @Test("errors say line and column")
    func errors() {
        func message(_ text: String) -> String {
            do {
                _ = try JSONParser.parse(text)
                return "accepted"
            } catch {
                return error.description
            }
        }
        #expect(message("{\n  \"a\": 1,\n}") == "line 3, column 1: expected a key in double quotes")
        #expect(message("{\"a\": 1 \"b\": 2}") == "line 1, column 9: expected ',' or '}'")
        #expect(message("{\"a\": 1, \"a\": 2}") == "line 1, column 10: duplicate key \"a\"")
        #expect(message("[01]") == "line 1, column 3: leading zeros are not allowed")
        #expect(message("\"tab\there\"") == "line 1, column 5: control character in a string (escape it)")
        #expect(message("{} x") == "line 1, column 4: unexpected text after the JSON value")
        #expect(message(String(repeating: "[", count: 100)).contains("nested more than 64"))
    }
}

@Suite("config.json")
struct ConfigTests {
    @Test("the existing format works unchanged; optional keys are read")
    func valid() throws {
        let sources = try ConfigLoader.load(
            """
            {"sales": {"URL": "https://example.com/s.csv", "PARAMS": {"sep": ";", "encoding": "latin-1"}},
             "plain": {"URL": "http://example.com/p.csv", "PARAMS": {}},
             "x": {"URL": "http://example.com/x.csv", "TARGET": "in/{name}-{date:%Y%m%d}.csv", "RETRIES": 5,
                   "TIMEOUT": 30, "HEADERS": {"X-Key": "k"}, "OUTPUT": {"lineterminator": "\\r\\n"}}}
            """, runStart: runStart)
        #expect(sources.map(\.name) == ["sales", "plain", "x"])
        #expect(sources[0].csv.separator == UInt8(ascii: ";"))
        #expect(sources[1].csv.isPassthrough)
        #expect(TargetTemplate.render(sources[2].target, name: "x", time: runStart) == "in/x-20261126.csv")
        #expect(sources[2].retries == 5 && sources[2].headers["x-key"] == "k")
    }

    @Test("every problem is listed at once")
    func problems() {
        do {
            _ = try ConfigLoader.load(
                """
                {"a/b": {"URL": "http://e/x"},
                 ".hidden": {"URL": "ftp://e/x"},
                 "nourl": {"PARAMS": {}},
                 "badparams": {"URL": "http://e/x", "PARAMS": {"sepp": ";", "nrows": -1}},
                 "badtarget": {"URL": "http://e/x", "TARGET": "../up.csv"},
                 "unknown": {"URL": "http://e/x", "EXTRA": 1},
                 "one": {"URL": "http://e/1", "TARGET": "same.csv"},
                 "two": {"URL": "http://e/2", "TARGET": "same.csv"}}
                """, runStart: runStart)
            Issue.record("accepted a bad config")
        } catch {
            let text = error.description
            for expected in [
                "source \"a/b\": the name must not contain '/'", "source \".hidden\": the name must not start with '.'",
                "unsupported scheme 'ftp'", "source \"nourl\": URL is missing", "unknown PARAMS key 'sepp'",
                "nrows must be a whole number", "TARGET \"../up.csv\": must not contain '..'",
                "unknown key \"EXTRA\"", "sources \"one\" and \"two\" would both publish same.csv",
            ] {
                #expect(text.contains(expected), "missing: \(expected)\nin: \(text)")
            }
        }
    }

    @Test("JSON syntax errors and empty configs are refused")
    func syntax() {
        #expect(throws: ConfigError.self) { _ = try ConfigLoader.load("{\"a\": {\"URL\": }", runStart: runStart) }
        #expect(throws: ConfigError.self) { _ = try ConfigLoader.load("{}", runStart: runStart) }
        #expect(throws: ConfigError.self) { _ = try ConfigLoader.load("[]", runStart: runStart) }
    }
}

@Suite("FTP environment")
struct FTPEnvironmentTests {
    @Test("host forms: name, name:port, [IPv6]:port")
    func hosts() throws {
        let base = ["FTPUSER": "u", "FTPPASS": "p", "FTPTARGET": "/in"]
        var env = base
        env["FTPHOST"] = "ftp.example.com"
        #expect(try FTPEnvironment.load(env).port == nil)
        env["FTPHOST"] = "ftp.example.com:2121"
        #expect(try FTPEnvironment.load(env).port == 2121)
        env["FTPHOST"] = "[::1]:990"
        let v6 = try FTPEnvironment.load(env)
        #expect(v6.host == "::1" && v6.port == 990)
        env["FTPTLS"] = "none"
        #expect(try FTPEnvironment.load(env).security == .none)
    }

    @Test("credentials from ~/.netrc when FTPPASS is not set")
    func netrc() throws {
        let text =
            "machine other.example login x password y\nmachine ftp.example.com\n  login ann\n  password s3cret\n"
            + "default login anon password guest\n"
        let env = try FTPEnvironment.load(["FTPHOST": "ftp.example.com:2121", "FTPTARGET": "/in"], netrc: text)
        #expect(env.user == "ann" && env.password == "s3cret" && env.port == 2121)
        let fallback = try FTPEnvironment.load(["FTPHOST": "else.example", "FTPTARGET": "/in"], netrc: text)
        #expect(fallback.user == "anon")
        let explicit = try FTPEnvironment.load(
            ["FTPHOST": "ftp.example.com", "FTPUSER": "u", "FTPPASS": "p", "FTPTARGET": "/"], netrc: text)
        #expect(explicit.password == "p")
    }

    @Test("a ~/.netrc with CRLF line ends reads the same")
    func netrcCRLF() throws {
        let text = "machine ftp.example.com\r\n  login ann\r\n  password s3cret\r\n"
        let env = try FTPEnvironment.load(["FTPHOST": "ftp.example.com", "FTPTARGET": "/in"], netrc: text)
        #expect(env.user == "ann" && env.password == "s3cret")
    }

    @Test("control characters in any FTP variable are refused, and the values are not echoed")
    func controlCharacters() {
        do {
            _ = try FTPEnvironment.load([
                "FTPHOST": "h\r\nX", "FTPUSER": "u\u{0}", "FTPPASS": "p4ss\r\nDELE x", "FTPTARGET": "/in\r\nRMD /",
            ])
            Issue.record("accepted control characters")
        } catch {
            for name in ["FTPHOST", "FTPUSER", "FTPPASS", "FTPTARGET"] {
                #expect(error.messages.contains("\(name) must not contain control characters (line breaks, NUL, tabs)"))
            }
            #expect(!error.description.contains("p4ss") && !error.description.contains("DELE"))
        }
    }

    @Test("all missing variables are reported together")
    func missing() {
        do {
            _ = try FTPEnvironment.load(["FTPTLS": "maybe"])
            Issue.record("accepted an empty environment")
        } catch {
            #expect(
                error.messages == [
                    "FTPHOST is not set", "FTPUSER is not set", "FTPPASS is not set", "FTPTARGET is not set",
                    "FTPTLS must be explicit, implicit or none, got \"maybe\"",
                ])
        }
    }
}

@Suite("Pieces of the run")
struct RunPiecesTests {
    @Test("SHA-256 of known inputs")
    func sha256() {
        var empty = SHA256()
        #expect(empty.hexDigest() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        var abc = SHA256()
        abc.update(Array("abc".utf8))
        #expect(abc.hexDigest() == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        var long = SHA256()
        for chunk in stride(from: 0, to: 1_000_000, by: 7_777) {
            long.update([UInt8](repeating: UInt8(ascii: "a"), count: min(7_777, 1_000_000 - chunk)))
        }
        #expect(long.hexDigest() == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test("one event, one line: control characters from servers or names are masked; the password is too")
    func logLines() throws {
        let path = "/tmp/w2f-runlog-\(UInt32.random(in: 0...UInt32.max)).log"
        defer { unlink(path) }
        let log = try RunLog(path: path, secrets: ["s3cret"])
        log.echoToStderr = false
        log.event(.error, source: "a\r\nb", "failed", [("reason", "550 no\r\n2026 INFO forged\u{1B}[2J s3cret")])
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.hasSuffix(" ERROR [a??b] failed reason=\"550 no??2026 INFO forged?[2J ***\"\n"), "\(text)")
        #expect(text.split(separator: "\n").count == 1)
    }

    @Test("a short password is masked in values only: keys and names stay whole and do not point at it")
    func shortPasswordMaskedInValuesOnly() throws {
        let path = "/tmp/w2f-runlog-\(UInt32.random(in: 0...UInt32.max)).log"
        defer { unlink(path) }
        let log = try RunLog(path: path, secrets: ["bad"])
        log.echoToStderr = false
        log.event(.info, source: nil, "summary", [("bad_rows_skipped", "0"), ("reason", "a bad login")])
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.hasSuffix(" INFO summary bad_rows_skipped=0 reason=\"a *** login\"\n"), "\(text)")
    }

    @Test("local time: ISO 8601 with milliseconds and offset; strftime subset")
    func localTime() {
        #expect(runStart.iso8601 == "2026-11-26T22:23:00.000+01:00")
        #expect(runStart.format("%Y%m%d-%H%M%S %%") == "20261126-222300 %")
    }
}
