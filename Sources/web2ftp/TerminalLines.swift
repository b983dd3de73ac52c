@_spi(Internals) import WebToFTP

/// What a person at a terminal sees of a run, made from its events: a line per finished source (`✓ sales  12.3 MB in
/// 1.2 s  3,000 rows → /in/sales.csv`, `✗ prices  404 Not Found (not retried)`), retries and warnings, and a summary
/// block at the end. Pure: events in, lines out (no width: these lines stay on the screen and may wrap); the live
/// block is `LiveLines`. The log file keeps every event in its own format; this is only what stderr shows.
struct TerminalLines {
    var kind: TerminalKind
    /// `-v`: every INFO event too, in the log's words (without the time).
    var verbose = false
    /// `--quiet`: only what a WARN or ERROR event says.
    var quiet = false
    /// The log file, named in the summary block.
    var logPath: String?
    /// Failed sources of the run so far, for the summary block.
    private var failedNames: [String] = []

    init(kind: TerminalKind, verbose: Bool = false, quiet: Bool = false, logPath: String? = nil) {
        self.kind = kind
        self.verbose = verbose
        self.quiet = quiet
        self.logPath = logPath
    }

    /// The lines `event` adds to the terminal; none for what only the log needs.
    mutating func lines(for event: RunEvent) -> [String] {
        let lines = render(event)
        return lines.map { ConfigLoader.printable($0) }
    }

    private mutating func render(_ event: RunEvent) -> [String] {
        let problem = event.level == .warning || event.level == .error
        switch event.name {
        case "published" where !quiet:
            return [published(event)]
        case "unchanged" where !quiet:
            let why = event.text("reason") == "identical" ? "same bytes" : "not modified"
            let path = event.text("path").map { " \(kind.arrow) \($0)" } ?? ""
            return ["\(kind.ok) \(event.source ?? "")  unchanged (\(why)), not uploaded\(path)"]
        case "checked" where !quiet:
            let path = event.text("path").map { " \(kind.arrow) \($0)" } ?? ""
            return ["\(kind.ok) \(event.source ?? "")  reachable (HTTP \(event.text("http_status") ?? "?"))\(path)"]
        case "failed":
            if let source = event.source { failedNames.append(source) }
            return [failed(event)]
        case "retry":
            let delay = event.text("delay") ?? ""
            let milliseconds = Int(delay.hasSuffix("ms") ? String(delay.dropLast(2)) : delay) ?? 0
            let resume = event.text("resume_from").flatMap(UInt64.init).map { ", resuming at \(HumanFormat.size($0))" }
            return [
                "\(kind.again) \(event.source ?? "")  \(Self.shortReason(event.text("reason") ?? "")), "
                    + "again in \(HumanFormat.duration(milliseconds: milliseconds))\(resume ?? "")"
            ]
        case "summary", "dry_run_summary":
            defer { failedNames = [] }
            guard !quiet || problem else { return [] }
            return summary(event, dryRun: event.name == "dry_run_summary")
        case "failed_summary":
            // The summary block names the failed sources; this repeat is for the end of the log file.
            return []
        case "interrupted":
            let signal = event.text("signal")
            let stop = signal == "SIGINT" ? " (press Ctrl-C again to stop at once)" : ""
            return ["Interrupted\(signal.map { " by \($0)" } ?? ""): stopping and cleaning up\(stop)"]
        case "schedule" where !quiet:
            return [
                "Scheduled: every day at \(event.text("at") ?? "?") (\(event.text("mode") ?? "?"), \(event.text("config") ?? "?"))"
                    + "; Ctrl-C stops when idle"
            ]
        case "stopped" where !quiet:
            return ["Stopped (\(event.text("signal") ?? "signal")): no run was going"]
        case "skipped":
            return ["Skipped a run: \(event.text("reason") ?? "")"]
        default:
            if problem { return [Self.plain(event)] }
            if event.level == .trace { return quiet ? [] : [Self.plain(event)] }
            return verbose && !quiet ? [Self.plain(event)] : []
        }
    }

    private func published(_ event: RunEvent) -> String {
        var line = "\(kind.ok) \(event.source ?? "")  "
        let bytes = UInt64(event.text("bytes") ?? "") ?? 0
        let milliseconds = Int(event.text("duration_ms") ?? "") ?? 0
        line += "\(HumanFormat.size(bytes)) in \(HumanFormat.duration(milliseconds: milliseconds))"
        if case .integer(let rows)? = event["rows"] { line += "  \(HumanFormat.count(rows)) rows" }
        if let path = event.text("path") { line += " \(kind.arrow) \(path)" }
        return line
    }

    private func failed(_ event: RunEvent) -> String {
        let reason = Self.shortReason(event.text("reason") ?? "")
        let attempts = Int(event.text("attempts") ?? "") ?? 1
        let note: String
        switch event.text("class") {
        case "interrupted": note = " (interrupted)"
        case "destination": note = ""
        case "permanent" where attempts <= 1: note = " (not retried)"
        case _ where attempts > 1: note = " (after \(attempts) attempts)"
        default: note = ""
        }
        return "\(kind.failed) \(event.source ?? "")  \(reason)\(note)"
    }

    private func summary(_ event: RunEvent, dryRun: Bool) -> [String] {
        func number(_ key: String) -> Int64 { Int64(event[key]?.description ?? "") ?? 0 }
        let sources = number("sources")
        let failed = number("failed")
        // A shard run counts its own sources: say whose, as the log's summary line does (`shard=K/N`).
        let shard = event.text("shard").map { " of shard \($0)" } ?? ""
        var counts = "\(HumanFormat.count(sources)) source\(sources == 1 ? "" : "s")\(shard): "
        let unchanged = number("unchanged")
        counts += "\(HumanFormat.count(number("succeeded") - unchanged)) \(dryRun ? "checked" : "published")"
        if unchanged > 0 { counts += ", \(HumanFormat.count(unchanged)) unchanged" }
        counts += ", \(HumanFormat.count(failed)) failed"
        if number("retried") > 0 { counts += ", \(HumanFormat.count(number("retried"))) retried" }
        let wall = Int(number("wall_ms"))
        var totals = "\(HumanFormat.size(UInt64(number("bytes_down")))) down"
        if !dryRun {
            totals += ", \(HumanFormat.size(UInt64(number("bytes_up")))) up"
            if event.text("rows") != nil && number("rows") > 0 {
                totals += ", \(HumanFormat.count(number("rows"))) rows"
            }
        }
        totals += " in \(HumanFormat.duration(milliseconds: wall))"
        if !dryRun { totals += " (\(HumanFormat.rate(UInt64(number("bytes_up")), milliseconds: wall)))" }
        var lines = ["", (dryRun ? "Dry run: " : "") + counts, totals]
        if !failedNames.isEmpty {
            let shown = failedNames.prefix(10).joined(separator: ", ")
            lines.append("Failed: \(shown)\(failedNames.count > 10 ? " and \(failedNames.count - 10) more" : "")")
        }
        if let logPath { lines.append("Log: \(logPath)") }
        return lines
    }

    /// A failure's reason without the URL it is about (the source's name says which): `http://h/x.csv: HTTP 404
    /// Not Found` → `404 Not Found`.
    static func shortReason(_ reason: String) -> String {
        var text = Substring(reason)
        if text.hasPrefix("http://") || text.hasPrefix("https://"),
            let space = text.firstIndex(of: " "),
            text[..<space].hasSuffix(":")
        {
            text = text[text.index(after: space)...]
        }
        if text.hasPrefix("HTTP "), text.dropFirst(5).first?.isNumber == true { text = text.dropFirst(5) }
        return String(text)
    }

    /// An event in the log's words, without the time: `WARN [sales] csv detail="…"`.
    static func plain(_ event: RunEvent) -> String {
        let line = event.line
        guard let space = line.firstIndex(of: " ") else { return line }
        return String(line[line.index(after: space)...])
    }
}

extension RunEvent {
    /// A field's value as text, nil when the event has no such field.
    fileprivate func text(_ key: String) -> String? { self[key]?.description }
}
