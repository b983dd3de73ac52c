@_spi(Internals) import CSVStream
import Glibc
@_spi(Internals) import Reactor
@_spi(Internals) import WebToFTP

/// `web2ftp preview NAME [--config PATH] [--rows N|all] [-o FILE]`: downloads one source, runs its transform and
/// writes what a run would publish, cut to its header and first rows (the download stops once they are there), with
/// the CSV counters and warnings on stderr. How PARAMS are tuned without publishing: no FTP variables, and nothing
/// written but the output (no log, no lock, no state).
enum PreviewCommand {
    struct Arguments {
        var name: String?
        var config = "config.json"
        /// Data rows after the header; nil: all.
        var rows: Int? = 20
        var output = "-"
        var caFile: String?
        var insecure = false
        var quiet = false
    }

    static var parser: OptionParser<Arguments> {
        var parser = OptionParser<Arguments>(
            "preview",
            [
                .value("--config", as: "a path") { $0.config = $1 },
                .value("--rows", as: "a number of rows or all") { arguments, word throws(Message) in
                    if word == "all" {
                        arguments.rows = nil
                    } else {
                        guard let rows = Int(word), rows >= 0 else {
                            throw Message("--rows '\(word)' is not a number of rows or all")
                        }
                        arguments.rows = rows
                    }
                },
                .value("-o", "--output", as: "a file name (or - for stdout)") { $0.output = $1 },
                .value("--cacert", as: "a file") { $0.caFile = $1 },
                .flag("--insecure") { $0.insecure = true },
                .flag("-q", "--quiet") { $0.quiet = true },
            ])
        parser.positional = { arguments, word throws(Message) in
            guard arguments.name == nil else { throw Message("one source at a time ('\(word)' is a second)") }
            arguments.name = word
        }
        return parser
    }

    static func run(_ arguments: [String]) -> Int32 {
        let parsed: Arguments
        switch parser.arguments(arguments, into: Arguments(), help: Usage.preview) {
        case .failure(let exit): return exit.status
        case .success(let value): parsed = value
        }
        guard let name = parsed.name else { return parser.usage(Message("which source? web2ftp preview NAME")).status }
        let sources: [SourceConfig]
        switch ConfigFile.load(parsed.config, runStart: LocalTime.now()) {
        case .failure(let problems):
            writeOut("web2ftp preview: nothing ran:\n" + problems.list.map { "  - \($0)\n" }.joined(), to: 2)
            return 2
        case .success(let loaded): sources = loaded
        }
        guard let source = sources.first(where: { $0.name == name }) else {
            let hint = Spelling.hint(for: name, among: sources.map(\.name)).map { " — \($0)" } ?? ""
            let known = sources.map(\.name).joined(separator: ", ")
            return parser.usage(Message("no source '\(name)' in \(parsed.config)\(hint) (sources: \(known))")).status
        }
        var configuration = HTTPClient.Configuration()
        configuration.userAgent = Web2FTP.userAgent
        configuration.tls.additionalCAFile = parsed.caFile
        if parsed.insecure {
            configuration.tls.verification = .insecureNoVerification
            writeOut("web2ftp preview: WARNING: --insecure: TLS certificates are not verified\n", to: 2)
        }
        do {
            configuration.proxies = try ProxySettings(environment: processEnvironment())
        } catch {
            writeOut("web2ftp preview: proxy settings: \(error)\n", to: 2)
            return 2
        }
        let say = { (text: String) in writeOut("web2ftp preview: \(text)\n", to: 2) }
        for (level, fields) in CSVReport.notes(source.csv) where level != .info || !parsed.quiet {
            say("\(level.rawValue) [\(name)] csv " + fields.map { "\($0.0)=\"\($0.1)\"" }.joined(separator: " "))
        }
        // Blocked before FILE.part-PID exists: a signal from then on reaches the loop, which removes it (a signal
        // between the two would have killed the process with the part file left behind).
        do {
            try ProcessSignals.blockForWatching([SIGINT, SIGTERM])
        } catch {
            say("\(error)")
            return 1
        }
        let sink: FileSink
        do {
            sink = try FileSink(path: parsed.output)
        } catch {
            say("\(error)")
            return 2
        }
        do {
            // As get: SIGINT and SIGTERM reach the loop (a signalfd), and the FILE.part-PID goes before exiting
            // 130/143; blocking them (above) also undoes a SIGINT ignored by a non-interactive shell's `&`.
            _ = try ProcessSignals.ignoreBrokenPipe()
            let loop = try EventLoop()
            let client = HTTPClient(loop: loop, configuration: configuration)
            let receiver = PreviewReceiver(source: source, rows: parsed.rows, sink: sink) { loop.stop() }
            // As a run asks: gzip welcome, decoded here with the file's own compression, as the run publishes it.
            let task = client.request(
                source.url, headers: source.headers, idleTimeoutMS: source.idleTimeoutSeconds.map { Int($0 * 1000) },
                decodes: SourceCoding.decodes, delegate: receiver)
            var signalled: Int32?
            let watcher = try SignalWatcher(loop: loop, signals: [SIGINT, SIGTERM]) { signal in
                if signalled != nil { return }
                signalled = signal
                task.cancel()
            }
            try loop.run()
            watcher.close()
            client.close()
            loop.close()
            if let signalled {
                sink.discard()
                let removed = sink.temporary.map { ": removed \($0)" } ?? ""
                say("interrupted by \(signalled == SIGINT ? "SIGINT" : "SIGTERM")\(removed)")
                return signalled == SIGINT ? 130 : 143
            }
            // `preview … | head`: the reader has what it wanted; nothing failed.
            if sink.readerGone { return 0 }
            for warning in receiver.warnings { say("WARN [\(name)] csv detail=\"\(warning)\"") }
            if let warning = receiver.codingWarning { say("WARN [\(name)] compression detail=\"\(warning)\"") }
            if let failure = receiver.failure {
                sink.discard()
                say("ERROR [\(name)] \(failure)")
                return 1
            }
            try sink.commit()
            if !parsed.quiet { say(receiver.report) }
            return 0
        } catch {
            sink.discard()
            say("\(error)")
            return 1
        }
    }
}

/// Feeds the body through the source's transform (or passes it through, as a run would) into the output, until the
/// rows wanted are there; then it cancels the download.
private final class PreviewReceiver: HTTPResponseDelegate {
    let name: String
    let sink: FileSink
    let done: () -> Void
    private let transformer: CSVTransformer?
    private var rows: PreviewRows
    private var output: [UInt8] = []
    private var bytesIn: UInt64 = 0
    /// Data rows written (the header not counted).
    private var shown: Int { max(0, rows.taken - header) }
    private let header: Int
    private var finalURL = ""
    private(set) var failure: String?

    private let source: SourceConfig
    /// The body's content coding and the file's compression undone (made at the head, which names the coding).
    private var coding: SourceCoding?
    private(set) var codingWarning: String?

    init(source: SourceConfig, rows wanted: Int?, sink: FileSink, done: @escaping () -> Void) {
        self.source = source
        name = source.name
        self.sink = sink
        self.done = done
        let csv = source.csv
        transformer = csv.isPassthrough ? nil : CSVTransformer(options: csv)
        // The header is a line of its own when the output has one: the file's, or `names`.
        let header = csv.header != nil || csv.names != nil ? 1 : 0
        self.header = header
        let lineEnd = !csv.isPassthrough && csv.lineTerminator == [13] ? UInt8(ascii: "\r") : UInt8(ascii: "\n")
        rows = PreviewRows(
            lines: wanted.map { $0 + header }, quote: csv.isPassthrough ? csv.quote : UInt8(ascii: "\""),
            lineEnd: lineEnd)
    }

    var warnings: [String] { transformer?.warnings ?? [] }

    /// The counters, as the `published` line has them, and what was cut.
    var report: String {
        // The counters cover every row the transform saw in the bytes read, which may run past the rows shown.
        var fields = ["rows_shown=\(shown)", "bytes_in=\(bytesIn)"]
        if let transformer { fields += CSVReport.fields(transformer.counters).map { "\($0.key)=\($0.value)" } }
        let cut = rows.complete ? " (stopped: the rows asked for are there)" : ""
        return "INFO [\(name)] preview \(fields.joined(separator: " ")) url=\(finalURL)\(cut)"
    }

    func task(_ task: HTTPTask, didReceiveHead head: HTTPResponseHead) {
        finalURL = task.url.redacted
        // As a run: an HTML page where CSV was expected is a login page or an error page, never published.
        if head.headers["Content-Type"]?.lowercased().hasPrefix("text/html") == true {
            failure = "\(task.url.redacted) answered \(head.status) with text/html: not CSV"
            return task.cancel()
        }
        do {
            // What the run publishes, shown as CSV: decoded whatever the target's own compression.
            coding = try SourceCoding(source: source, head: head, target: "preview", transforms: true)
        } catch {
            failure = error.reason
            task.cancel()
        }
    }

    func task(_ task: HTTPTask, didReceive bytes: UnsafeRawBufferPointer) {
        guard failure == nil, !rows.complete, let coding else { return }
        bytesIn += UInt64(bytes.count)
        do {
            try coding.push(bytes) { piece in
                self.take(piece)
                return self.failure == nil && !self.rows.complete
            }
        } catch {
            failure = error.reason
        }
        if codingWarning == nil { codingWarning = coding.mismatchWarning }
        if rows.complete || failure != nil { task.cancel() }
    }

    /// One decoded piece through the transform (or as it is) into the output.
    private func take(_ bytes: UnsafeRawBufferPointer) {
        guard failure == nil, !rows.complete else { return }
        if let transformer {
            output.removeAll(keepingCapacity: true)
            do {
                try transformer.push(bytes, into: &output)
            } catch {
                failure = "CSV: \(error.message)"
                return
            }
            write(output)
        } else {
            write(Array(bytes))
        }
    }

    func task(_ task: HTTPTask, didFinish result: Result<HTTPResponseSummary, HTTPError>) {
        defer { done() }
        guard failure == nil else { return }
        switch result {
        case .success(let summary):
            finalURL = summary.finalURL
            guard !rows.complete else { return }
            do {
                // The decoder's end: a cut gzip stream or a bad CRC fails the preview as it would the run.
                _ = try coding?.finish { piece in
                    self.take(piece)
                    return !self.rows.complete
                }
            } catch {
                failure = error.reason
                return
            }
            guard let transformer, !rows.complete, failure == nil else { return }
            output.removeAll(keepingCapacity: true)
            do {
                try transformer.finish(into: &output)
                write(output)
            } catch {
                failure = "CSV: \(error.message)"
            }
        case .failure(.cancelled) where rows.complete:
            break
        case .failure(let error):
            failure = "\(error)"
        }
    }

    private func write(_ bytes: [UInt8]) {
        let kept = rows.take(bytes)
        guard kept > 0, failure == nil else { return }
        if let problem = bytes[..<kept].withUnsafeBytes({ sink.write($0) }) {
            failure = "writing the output: \(problem)"
        }
    }
}
