@_spi(Internals) import WebToFTP

/// `web2ftp check [--config PATH] [--env]`: the config checked offline, as `nginx -t` checks nginx's, before a
/// deploy or after an edit. Nothing is contacted (no DNS, no HTTP, no FTP) and nothing is written: no log, no lock,
/// no state. With `--env` the FTP variables are checked too, as a run would read them.
enum CheckCommand {
    struct Arguments {
        var config = "config.json"
        var env = false
        var ftpTLS: FTPSecurity?
    }

    static var parser: OptionParser<Arguments> {
        OptionParser<Arguments>(
            "check",
            [
                .value("--config", as: "a path") { $0.config = $1 },
                .flag("--env") { $0.env = true },
                .value("--ftp-tls", as: "explicit, implicit or none") { arguments, word throws(Message) in
                    guard let value = FTPSecurity(rawValue: word) else {
                        throw Message("unknown --ftp-tls '\(word)' (expected explicit, implicit or none)")
                    }
                    arguments.ftpTLS = value
                },
            ])
    }

    static func run(_ arguments: [String]) -> Int32 {
        let parsed: Arguments
        switch parser.arguments(arguments, into: Arguments(), help: Usage.check) {
        case .failure(let exit): return exit.status
        case .success(let value): parsed = value
        }
        var problems: [String] = []
        var count = 0
        switch ConfigFile.load(parsed.config, runStart: LocalTime.now()) {
        case .failure(let found): problems += found.list
        case .success(let sources): count = sources.count
        }
        if parsed.env {
            let variables = FTPVariables.load(processEnvironment(), security: parsed.ftpTLS)
            problems += variables.problems
            for warning in variables.warnings {
                let fields = warning.fields.map { "\($0.0)=\($0.1)" }.joined(separator: " ")
                writeOut("web2ftp check: WARN \(warning.name) \(fields)\n", to: 2)
            }
        }
        guard problems.isEmpty else {
            writeOut(problems.map { $0 + "\n" }.joined(), to: 2)
            let counted = problems.count == 1 ? "1 problem" : "\(problems.count) problems"
            writeOut("web2ftp check: \(counted): nothing would run\n", to: 2)
            return 2
        }
        let sources = count == 1 ? "1 source" : "\(count) sources"
        writeOut("\(parsed.config): \(sources) OK\(parsed.env ? ", FTP variables OK" : "")\n", to: 1)
        return 0
    }
}
