@_spi(Internals) import WebToFTP

/// `web2ftp check [--config PATH] [--env]`: the config checked offline, as `nginx -t` checks nginx's, before a
/// deploy or after an edit. Nothing is contacted (no DNS, no HTTP, no FTP) and nothing is written: no log, no lock,
/// no state. With `--env` the FTP variables are checked too, as a run would read them.
enum CheckCommand {
    struct Arguments {
        var config = "config.json"
        var env = false
        var ftpTLS: FTPSecurity?
        /// `--shard K/N`: list that shard's sources.
        var shard: Shard?
        /// `--shards N`: print the whole partition, the count of each shard.
        var shards: Int?
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
                .value("--shard", as: "K/N or auto/N") { arguments, word throws(Message) in
                    arguments.shard = try parseShard(word)
                },
                .value("--shards", as: "a number from 1 to \(Shard.maximumCount)") { arguments, word throws(Message) in
                    arguments.shards = try number(word, 1...Shard.maximumCount, "--shards")
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
        var names: [String] = []
        switch ConfigFile.load(parsed.config, runStart: LocalTime.now()) {
        case .failure(let found): problems += found.list
        case .success(let sources): names = sources.map(\.name)
        }
        let count = names.count
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
        if let shard = parsed.shard { writeOut(shardListing(names, shard), to: 1) }
        if let shards = parsed.shards { writeOut(partition(names, shards), to: 1) }
        return 0
    }

    /// `shard K/N: M sources` and then the names, one a line, in the config's order.
    static func shardListing(_ names: [String], _ shard: Shard) -> String {
        let members = names.filter(shard.contains)
        return "shard \(shard.label): \(plural(members.count))\n" + members.map { "  \($0)\n" }.joined()
    }

    /// One line per shard, `shard K/N: M sources`, so that the balance shows.
    static func partition(_ names: [String], _ count: Int) -> String {
        var counts = [Int](repeating: 0, count: count)
        for name in names { counts[Shard.index(of: name, count: count)] += 1 }
        return counts.enumerated().map { "shard \($0.offset)/\(count): \(plural($0.element))\n" }.joined()
    }

    private static func plural(_ count: Int) -> String { count == 1 ? "1 source" : "\(count) sources" }
}
