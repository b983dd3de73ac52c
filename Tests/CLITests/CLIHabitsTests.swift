import Foundation
@_spi(Internals) import TestSupport
import Testing

@testable import web2ftp

@Suite("web2ftp command-line habits: --opt=value, -q/-v/-h/-V, help COMMAND, words echoed, did-you-mean")
struct CLIHabitsTests {
    @Test("each command has its own help: web2ftp help COMMAND and web2ftp COMMAND --help / -h, exit 0")
    func commandHelp() throws {
        for (command, marker) in [
            ("manual", "usage: web2ftp manual"), ("schedule", "usage: web2ftp schedule"),
            ("check", "usage: web2ftp check"), ("preview", "usage: web2ftp preview NAME"),
            ("get", "usage: web2ftp get URL"), ("next-run", "usage: web2ftp next-run"),
        ] {
            for arguments in [["help", command], [command, "--help"], [command, "-h"]] {
                let run = try runProduct("web2ftp", arguments)
                #expect(run.status == 0, "\(arguments)")
                #expect(run.output.hasPrefix(marker), "\(arguments): \(run.output.prefix(80))")
            }
        }
        for arguments in [["help"], ["help", "help"]] {
            let global = try runProduct("web2ftp", arguments)
            #expect(global.status == 0 && global.output.contains("USAGE") && global.output.contains("web2ftp check"))
        }
        let option = try runProduct("web2ftp", ["--verison"])
        #expect(option.status == 2 && option.error.contains("unknown option '--verison' — did you mean '--version'?"))
        let unknown = try runProduct("web2ftp", ["help", "chek"])
        #expect(unknown.status == 2 && unknown.error.contains("unknown command 'chek' — did you mean 'check'?"))
    }

    @Test("-V and --version anywhere a command parses its options; -h at the top")
    func versionAndHelp() throws {
        for arguments in [["-V"], ["--version"], ["check", "-V"], ["manual", "--version"]] {
            let run = try runProduct("web2ftp", arguments)
            #expect(run.status == 0 && run.output.hasPrefix("web2ftp 0."), "\(arguments)")
        }
        let help = try runProduct("web2ftp", ["-h"])
        #expect(help.status == 0 && help.output.contains("EXIT CODES"))
    }

    @Test(
        "usage errors echo the word and suggest the nearest known one; exit 2",
        arguments: [
            (["manual", "foo"], "unknown mode 'foo' (expected sequential or parallel)"),
            (["schedul"], "unknown command 'schedul' — did you mean 'schedule'?"),
            (["sometimes"], "unknown command 'sometimes' (expected manual, schedule, check, preview, get, next-run"),
            (["manual", "parallel", "--confg", "x"], "unknown option '--confg' — did you mean '--config'?"),
            (
                ["manual", "parallel", "--ftp-tls", "tls"],
                "unknown --ftp-tls 'tls' (expected explicit, implicit or none)"
            ),
            (["manual", "parallel", "--workers=lots"], "--workers 'lots' is not a number from 1 to 64"),
            (["manual", "parallel", "--insecure=yes"], "--insecure takes no value"),
            (["manual", "parallel", "--config"], "--config needs a path"),
            (["manual", "parallel", "-q", "-v"], "--quiet and --verbose contradict each other"),
            (["manual", "parallel", "-qv"], "--quiet and --verbose contradict each other"),
            (["manual", "sequential", "--at", "22:00"], "--at belongs to schedule, not manual"),
            (["schedule", "sequential", "--dry-run"], "--dry-run goes with manual, not schedule"),
            (["check", "--evn"], "unknown option '--evn' — did you mean '--env'?"),
            (["get", "--output"], "--output needs a file name"),
            (["next-run", "--count=0"], "--count '0' is not a number from 1 to 100"),
            (["next-run", "--at", "25:00"], "--at '25:00' is not a time of day"),
        ])
    func usageErrors(arguments: [String], expected: String) throws {
        let run = try runProduct("web2ftp", arguments)
        #expect(run.status == 2)
        #expect(run.error.contains(expected), "\(arguments): \(run.error)")
        #expect(run.output.isEmpty)
    }

    @Test("--opt=value is --opt value, for every option that takes one")
    func equalsForm() throws {
        let spaced = try runProduct("web2ftp", ["next-run", "--at", "06:30", "--now", "1700000000", "--count", "2"])
        let joined = try runProduct("web2ftp", ["next-run", "--at=06:30", "--now=1700000000", "--count=2"])
        #expect(spaced.status == 0 && joined.status == 0)
        #expect(spaced.output == joined.output && spaced.output.split(separator: "\n").count == 2)
        // Every value option of schedule (manual's and --at), each given with `=`: they all parse.
        let parser = RunArguments.parser(schedule: true)
        let values = [
            "--workers": "3", "--retries": "1", "--ftp-timeout": "9", "--ftp-tls": "none", "--at": "06:00",
            "--shard": "1/4", "--log-format": "json", "--metrics-push": "http://gw:9091",
        ]
        for option in parser.options where option.value != nil {
            let name = option.names.last!
            guard case .success = RunArguments.parse(["parallel", "\(name)=\(values[name] ?? "x")"], schedule: true)
            else {
                Issue.record("\(name)= refused")
                continue
            }
        }
        guard case .success(let parsed) = RunArguments.parse(["parallel", "--config=a=b.json", "--workers=7"]) else {
            Issue.record("refused")
            return
        }
        #expect(parsed.config == "a=b.json" && parsed.workers == 7)
    }

    @Test("-q alone, -q with -vv (the trace to the log file only), -v alone are fine")
    func quietAndVerbose() {
        for flags in [["-q"], ["-q", "-vv"], ["-v"], ["--quiet", "--trace"]] {
            guard case .success(let parsed) = RunArguments.parse(["sequential"] + flags) else {
                Issue.record("\(flags) refused")
                continue
            }
            #expect(parsed.quiet == flags.contains { $0.contains("q") })
        }
    }
}

@Suite("FTPHOST as a URL, through the CLI")
struct FTPHostURLTests {
    @Test("credentials in FTPHOST are refused and never printed, on stderr or in the log")
    func credentialsMasked() throws {
        let scratch = try Scratch("ftphost-secret")
        try scratch.write("config.json", #"{"a": {"URL": "http://e/a.csv"}}"#)
        for host in ["ftp://u:secret@h", "ftps://u:secret@h:990/in", "u:secret@h"] {
            let env = ["FTPHOST": host, "FTPUSER": "u", "FTPPASS": "p", "FTPTARGET": "/in", "FTPTLS": "none"]
            let check = try scratch.run(["check", "--env", "--config", scratch.path("config.json")], environment: env)
            let manual = try scratch.run(
                ["manual", "sequential", "--config", scratch.path("config.json"), "--log", scratch.path("run.log")],
                environment: env)
            for run in [check, manual] {
                #expect(run.status == 2, "\(host)")
                #expect(run.error.contains("use FTPUSER and FTPPASS"), "\(host): \(run.error)")
                #expect(!run.error.contains("secret") && !run.output.contains("secret"), "\(host): \(run.error)")
            }
            #expect(scratch.read("run.log")?.contains("config_error") == true)
            #expect(scratch.read("run.log")?.contains("secret") == false)
        }
    }

    @Test(
        "a scheme that contradicts FTPTLS, plain ftp:// without FTPTLS=none, a path: config errors (exit 2)",
        arguments: [
            ("ftps://h", "explicit", "FTPHOST ftps://… means implicit FTPS but FTPTLS says explicit"),
            ("ftpes://h", "none", "FTPHOST ftpes://… means explicit FTPS but FTPTLS says none"),
            ("ftp://h", "", "FTPHOST ftp://… is plain FTP"),
            ("ftp://h", "explicit", "FTPHOST ftp://… means plain FTP but FTPTLS says explicit"),
            ("ftpes://h/in", "", "no path here"),
            ("sftp://h", "", "unknown scheme 'sftp'"),
        ])
    func refused(host: String, tls: String, expected: String) throws {
        let scratch = try Scratch("ftphost")
        try scratch.write("config.json", #"{"a": {"URL": "http://e/a.csv"}}"#)
        let env = ["FTPHOST": host, "FTPUSER": "u", "FTPPASS": "p", "FTPTARGET": "/in", "FTPTLS": tls]
        let run = try scratch.run(["check", "--env", "--config", scratch.path("config.json")], environment: env)
        #expect(run.status == 2)
        #expect(run.error.contains(expected), "\(run.error)")
    }

    @Test("ftps://host:port logs in over implicit FTPS, ftpes:// over explicit (a dry run against vsftpd)")
    func urlLogsIn() throws {
        try TestEnv.require(.nginxHTTP, .vsftpd)
        let scratch = try Scratch("ftphost-login")
        try scratch.write("config.json", "{\"a\": {\"URL\": \"\(nginx)/small.csv\"}}")
        for host in ["ftps://127.0.0.1:\(TestEnv.ftpsImplicitPort)", "ftpes://127.0.0.1:\(TestEnv.ftpsPort)"] {
            let env = [
                "FTPHOST": host, "FTPUSER": TestEnv.ftpUser, "FTPPASS": TestEnv.ftpPassword, "FTPTARGET": "/",
            ]
            let run = try scratch.run(
                [
                    "manual", "sequential", "--dry-run", "--config", scratch.path("config.json"), "--log",
                    scratch.path("run.log"), "--cacert", TestEnv.caFile,
                ], environment: env)
            #expect(run.status == 0, "\(host): \(run.error)")
        }
    }
}

@Suite("A refused config in the log; a readable ~/.netrc warned about")
struct RefusedConfigLogTests {
    @Test("one config_error line per problem in the log file; no log file when it cannot be opened")
    func configErrorLines() throws {
        let scratch = try Scratch("config-error")
        try scratch.write("mine.json", #"{"a": {"URL": "ftp://x/y.csv"}, "b": {"URL": "http://e/b.csv", "BAD": 1}}"#)
        let run = try scratch.run([
            "manual", "sequential", "--config", scratch.path("mine.json"), "--log", scratch.path("run.log"),
        ])
        #expect(run.status == 2)
        let lines = (scratch.read("run.log") ?? "").split(separator: "\n")
        #expect(lines.allSatisfy { $0.contains(" ERROR config_error problem=") }, "\(lines)")
        #expect(lines.count == 6, "2 config problems and 4 unset variables: \(lines)")
        #expect(lines.contains { $0.contains("mine.json:1:") && $0.contains("unsupported scheme 'ftp'") })
        // The problems reach stderr once each, as before, not twice.
        #expect(run.error.components(separatedBy: "unsupported scheme").count == 2, "\(run.error)")
        let nowhere = try scratch.run([
            "manual", "sequential", "--config", scratch.path("mine.json"), "--log", scratch.path("no/such/dir/run.log"),
        ])
        #expect(nowhere.status == 2 && nowhere.error.contains("cannot write the log file"))
        #expect(scratch.files == ["mine.json", "run.log"])
    }

    @Test("a ~/.netrc that gives the password and that group or others can read: a WARN line; 0600: none")
    func netrcPermissions() throws {
        let scratch = try Scratch("netrc")
        try scratch.write("config.json", #"{"a": {"URL": "http://e/a.csv"}}"#)
        let env = ["FTPHOST": "ftp.example.invalid", "FTPTARGET": "/in"]
        let netrc = "machine ftp.example.invalid login u password netrc-secret\n"
        let check = ["check", "--env", "--config", scratch.path("config.json")]
        try scratch.write(".netrc", netrc, permissions: 0o644)
        let open = try scratch.run(check, environment: env)
        #expect(open.status == 0, "\(open.error)")
        #expect(open.error.contains("WARN netrc_readable path=\(scratch.path(".netrc"))"), "\(open.error)")
        #expect(open.error.contains("mode 644") && !open.error.contains("netrc-secret"))
        try scratch.write(".netrc", netrc, permissions: 0o600)
        let closed = try scratch.run(check, environment: env)
        #expect(closed.status == 0 && !closed.error.contains("netrc"), "\(closed.error)")
        // FTPPASS set: the netrc is not read for the password, so not warned about.
        try scratch.write(".netrc", netrc, permissions: 0o644)
        let given = try scratch.run(check, environment: env.merging(["FTPUSER": "u", "FTPPASS": "p"]) { $1 })
        #expect(given.status == 0 && !given.error.contains("netrc"))
    }

    @Test("a run reading a readable ~/.netrc logs the WARN line too")
    func netrcWarnInRun() throws {
        try TestEnv.require(.nginxHTTP, .vsftpd)
        let scratch = try Scratch("netrc-run")
        try scratch.write("config.json", "{\"a\": {\"URL\": \"\(nginx)/small.csv\"}}")
        try scratch.write(
            ".netrc", "machine 127.0.0.1 login \(TestEnv.ftpUser) password \(TestEnv.ftpPassword)\n",
            permissions: 0o640)
        let run = try scratch.run(
            [
                "manual", "sequential", "--dry-run", "--quiet", "--config", scratch.path("config.json"), "--log",
                scratch.path("run.log"), "--cacert", TestEnv.caFile,
            ], environment: ["FTPHOST": "127.0.0.1:\(TestEnv.ftpsPort)", "FTPTARGET": "/"])
        #expect(run.status == 0, "\(run.error)")
        #expect(run.error.contains("WARN netrc_readable"), "\(run.error)")
        #expect(scratch.read("run.log")?.contains("WARN netrc_readable") == true)
        #expect(!run.error.contains(TestEnv.ftpPassword))
    }
}
