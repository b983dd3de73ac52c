@_spi(Internals) import HTTP1
@_spi(Internals) import WebToFTP

/// What `manual` and `schedule` take: `web2ftp manual|schedule sequential|parallel [options]`.
struct RunArguments {
    var mode = RunOptions.Mode.sequential
    var modeGiven = false
    var config = "config.json"
    var log = "etl_pipeline.log"
    /// `--log-format json` (or `WEB2FTP_LOG_FORMAT=json`, which the flag overrides); nil: the variable decides.
    var logFormat: String?
    var workers = 4
    var retries = 2
    var only: [String] = []
    var force = false
    var statePath: String?
    var summaryJSON: String?
    /// `--metrics-file PATH`: the Prometheus text written (atomically) after each run.
    var metricsFile: String?
    /// `--metrics-push URL`: the Pushgateway the same text is PUT to after each run.
    var metricsPush: HTTPURL?
    /// `--shard K/N`: only the sources of that shard, with the shard's own lock and state file.
    var shard: Shard?
    var caFile: String?
    var insecure = false
    var ftpTLS: FTPSecurity?
    var trustPASV = false
    var ftpTimeoutSeconds: Int?
    var quiet = false
    var dryRun = false
    var times: [TimeOfDay] = []
    var runNow = false
    /// `-v`: attempt lines on stderr too.
    var verbose = false
    /// `-vv`, `-v -v`, `--trace`: also every protocol line, at TRACE (implies `verbose`).
    var trace = false
    /// `-v` given as such: with `--quiet` it contradicts (`-vv` with `--quiet` is the trace to the log file only).
    var verboseFlags = 0

    /// The options of `manual` (`schedule: false`) or `schedule`.
    static func parser(schedule: Bool) -> OptionParser<RunArguments> {
        let command = schedule ? "schedule" : "manual"
        let scheduleOnly = { (flag: String) throws(Message) in
            guard schedule else { throw Message("\(flag) belongs to schedule, not manual") }
        }
        let manualOnly = { (flag: String) throws(Message) in
            guard !schedule else { throw Message("\(flag) goes with manual, not schedule") }
        }
        var parser = OptionParser<RunArguments>(
            command,
            [
                .value("--config", as: "a path") { $0.config = $1 },
                .value("--log", as: "a path, or - for stderr only") { $0.log = $1 },
                .value("--log-format", as: "text or json") { arguments, word throws(Message) in
                    guard word == "text" || word == "json" else {
                        throw Message("unknown --log-format '\(word)' (expected text or json)")
                    }
                    arguments.logFormat = word
                },
                .value("--workers", as: "a number from 1 to 64") { arguments, word throws(Message) in
                    arguments.workers = try number(word, 1...64, "--workers")
                },
                .value("--retries", as: "a number from 0 to 100") { arguments, word throws(Message) in
                    arguments.retries = try number(word, 0...100, "--retries")
                },
                .value("--ftp-timeout", as: "a number of seconds from 1 to 3600") { arguments, word throws(Message) in
                    arguments.ftpTimeoutSeconds = try number(word, 1...3600, "--ftp-timeout", of: " of seconds")
                },
                .value("--only", as: "a source name") { $0.only.append($1) },
                .flag("--force") { $0.force = true },
                .value("--state", as: "a path") { $0.statePath = $1 },
                .value("--summary-json", as: "a path") { $0.summaryJSON = $1 },
                .value("--metrics-file", as: "a path") { $0.metricsFile = $1 },
                .value("--metrics-push", as: "a Pushgateway's http(s) URL") { arguments, word throws(Message) in
                    arguments.metricsPush = try parsePushgateway(word)
                },
                .value("--shard", as: "K/N or auto/N") { arguments, word throws(Message) in
                    arguments.shard = try parseShard(word)
                },
                .value("--cacert", as: "a file") { $0.caFile = $1 },
                .flag("--insecure") { $0.insecure = true },
                .value("--ftp-tls", as: "explicit, implicit or none") { arguments, word throws(Message) in
                    guard let value = FTPSecurity(rawValue: word) else {
                        throw Message("unknown --ftp-tls '\(word)' (expected explicit, implicit or none)")
                    }
                    arguments.ftpTLS = value
                },
                .flag("--ftp-use-pasv-ip") { $0.trustPASV = true },
                .flag("-q", "--quiet") { $0.quiet = true },
                .flag("-v", "--verbose") {
                    // A second one is `-vv`.
                    $0.trace = $0.verbose
                    $0.verbose = true
                    $0.verboseFlags += 1
                },
                .flag("--trace") {
                    $0.verbose = true
                    $0.trace = true
                },
                .flag("--dry-run") { arguments throws(Message) in
                    try manualOnly("--dry-run")
                    arguments.dryRun = true
                },
                .value("--at", as: "a time of day, HH:MM or HH:MM:SS") { arguments, word throws(Message) in
                    try scheduleOnly("--at")
                    guard let time = TimeOfDay(word) else {
                        throw Message("--at '\(word)' is not a time of day (expected HH:MM or HH:MM:SS)")
                    }
                    arguments.times.append(time)
                },
                .flag("--run-now") { arguments throws(Message) in
                    try scheduleOnly("--run-now")
                    arguments.runNow = true
                },
            ])
        parser.positional = { arguments, word throws(Message) in
            guard !arguments.modeGiven else { throw Message("unexpected argument '\(word)' (the mode is given)") }
            guard let mode = RunOptions.Mode(rawValue: word) else {
                throw Message("unknown mode '\(word)' (expected sequential or parallel)")
            }
            arguments.mode = mode
            arguments.modeGiven = true
        }
        return parser
    }

    /// What the options cannot say one at a time: the mode is there, `-q` and `-v` do not contradict.
    func validated(_ command: String) throws(Message) -> RunArguments {
        guard modeGiven else { throw Message("missing mode: web2ftp \(command) sequential|parallel [options]") }
        if quiet && verbose && !trace {
            throw Message("--quiet and --verbose contradict each other (-q -vv keeps the trace in the log file only)")
        }
        return self
    }

    /// Parses and validates `manual`'s or `schedule`'s arguments (help and version are not asked for here: tests).
    static func parse(_ arguments: [String], schedule: Bool = false) -> Result<RunArguments, Message> {
        do {
            guard case .run(let parsed) = try parser(schedule: schedule).parse(arguments, into: RunArguments()) else {
                return .failure(Message("help or version"))
            }
            return .success(try parsed.validated(schedule ? "schedule" : "manual"))
        } catch {
            return .failure(error)
        }
    }

    /// Parses for `run`: help, version and usage errors printed, with their exit codes.
    static func forRun(_ arguments: [String], schedule: Bool) -> Result<RunArguments, Exit> {
        let parser = parser(schedule: schedule)
        switch parser.arguments(arguments, into: RunArguments(), help: schedule ? Usage.schedule : Usage.manual) {
        case .failure(let exit):
            return .failure(exit)
        case .success(let parsed):
            do {
                return .success(try parsed.validated(parser.command))
            } catch {
                return .failure(parser.usage(error))
            }
        }
    }
}

/// `--shard`'s word, `auto/N` reading `JOB_COMPLETION_INDEX`.
func parseShard(_ word: String) throws(Message) -> Shard {
    switch Shard.parse(word, completionIndex: processEnvironment()["JOB_COMPLETION_INDEX"]) {
    case .success(let shard): return shard
    case .failure(let error): throw Message(error.message)
    }
}

/// `--metrics-push`'s word: an http or https URL, to which `/metrics/job/web2ftp` is added (no query: the
/// Pushgateway's grouping key is the path).
func parsePushgateway(_ word: String) throws(Message) -> HTTPURL {
    let url: HTTPURL
    do {
        url = try HTTPURL(word)
    } catch {
        throw Message("--metrics-push: \(error)")
    }
    guard url.query == nil else {
        throw Message("--metrics-push '\(url.redacted)' has a query: give the Pushgateway's base URL")
    }
    return url
}

/// A whole number in `range`, or a message that echoes the word back.
func number(_ word: String, _ range: ClosedRange<Int>, _ flag: String, of unit: String = "") throws(Message) -> Int {
    guard let value = Int(word), range.contains(value) else {
        throw Message("\(flag) '\(word)' is not a number\(unit) from \(range.lowerBound) to \(range.upperBound)")
    }
    return value
}
