@_spi(Internals) import Compression
import Glibc
@_spi(Internals) import HTTP1
@_spi(Internals) import WebToFTP

/// `web2ftp get URL [-o FILE|-] [--cacert PATH] [--insecure] [--trace]`: streams one body to a file or stdout. A debugging
/// aid, and the download side alone for benchmarks against `curl -o`. A file is written under a temporary name and
/// renamed only when the whole body arrived: a failed download leaves nothing under the name asked for.
enum GetCommand {
    struct Arguments {
        var url: String?
        var output = "-"
        var configuration = HTTPClient.Configuration()
        /// curl's `--compressed`: ask for gzip and decode it; without it the body comes as identity, as curl's does.
        var compressed = false
    }

    static var parser: OptionParser<Arguments> {
        var parser = OptionParser<Arguments>(
            "get",
            [
                .value("-o", "--output", as: "a file name (or - for stdout)") { $0.output = $1 },
                .value("--cacert", as: "a file") { $0.configuration.tls.additionalCAFile = $1 },
                .flag("-vv", "--trace") {
                    // Like curl -v: the request and response heads on stderr, masked as in a run's trace.
                    $0.configuration.trace = ProtocolTrace { connection, direction, line in
                        // A server's header may carry escape sequences: the terminal sees them printable, as the
                        // log does.
                        let shown = ConfigLoader.printable("conn=\(connection) \(direction.rawValue) \(line)")
                        writeOut("web2ftp: \(shown)\n", to: 2)
                    }
                },
                .flag("--insecure") { $0.configuration.tls.verification = .insecureNoVerification },
                .flag("--compressed") { $0.compressed = true },
            ])
        parser.positional = { arguments, word throws(Message) in
            guard arguments.url == nil else { throw Message("only one URL ('\(word)' is a second)") }
            arguments.url = word
        }
        return parser
    }

    static func run(_ arguments: [String]) -> Int32 {
        var start = Arguments()
        start.configuration.userAgent = Web2FTP.userAgent
        let given: Arguments
        switch parser.arguments(arguments, into: start, help: Usage.get) {
        case .failure(let exit): return exit.status
        case .success(let value): given = value
        }
        guard let url = given.url else { return parser.usage(Message("get needs a URL")).status }
        if given.configuration.tls.verification == .insecureNoVerification {
            writeOut("web2ftp: WARNING: --insecure: TLS certificates are not verified\n", to: 2)
        }
        var configuration = given.configuration
        let output = given.output
        let parsed: HTTPURL
        do {
            parsed = try HTTPURL(url)
            configuration.proxies = try ProxySettings(environment: processEnvironment())
        } catch {
            writeOut("web2ftp: \(error)\n", to: 2)
            return 2
        }
        // Blocked before FILE.part-PID exists: a signal from then on reaches the loop, which removes it (a signal
        // between the two would have killed the process with the part file left behind).
        do {
            try ProcessSignals.blockForWatching([SIGINT, SIGTERM])
        } catch {
            writeOut("web2ftp: \(error)\n", to: 2)
            return 1
        }
        let sink: FileSink
        do {
            sink = try FileSink(path: output)
        } catch {
            writeOut("web2ftp: \(error)\n", to: 2)
            return 2
        }
        do {
            // SIGINT and SIGTERM reach the loop (a signalfd), which removes FILE.part-PID before exiting 130/143.
            _ = try ProcessSignals.ignoreBrokenPipe()
            let loop = try EventLoop()
            let client = HTTPClient(loop: loop, configuration: configuration)
            let meter = Meter.make(name: Meter.name(output: output, url: parsed), output: output)
            let receiver = Receiver(sink: sink) { loop.stop() }
            let task = client.request(
                parsed, decodes: given.compressed ? ["gzip", "x-gzip", "deflate"] : [], delegate: receiver)
            var signalled: Int32?
            let watcher = try SignalWatcher(loop: loop, signals: [SIGINT, SIGTERM]) { signal in
                if signalled != nil { return }
                signalled = signal
                task.cancel()
            }
            let timer = meter.map { meter in
                loop.scheduleTimer(afterMilliseconds: 100, repeating: 100) {
                    meter.draw(receiver.bytes, receiver.total)
                }
            }
            try loop.run()
            if let timer { loop.cancelTimer(timer) }
            meter?.clear()
            watcher.close()
            client.close()
            loop.close()
            if let signalled {
                sink.discard()
                let name = signalled == SIGINT ? "SIGINT" : "SIGTERM"
                let removed = sink.temporary.map { ": removed \($0)" } ?? ""
                writeOut("web2ftp: interrupted by \(name)\(removed)\n", to: 2)
                return signalled == SIGINT ? 130 : 143
            }
            switch receiver.result {
            case .success(let summary)?:
                try sink.commit()
                let via = summary.redirects.isEmpty ? "" : " after \(summary.redirects.count) redirect(s)"
                writeOut("web2ftp: \(summary.bodyBytes) bytes from \(summary.finalURL)\(via)\n", to: 2)
                return 0
            case .failure(let error)?:
                sink.discard()
                writeOut("web2ftp: \(error)\n", to: 2)
                return 1
            case nil:
                sink.discard()
                return 1
            }
        } catch {
            sink.discard()
            writeOut("web2ftp: \(error)\n", to: 2)
            return 1
        }
    }

}

private final class Receiver: HTTPResponseDelegate {
    let sink: FileSink
    let done: () -> Void
    var result: Result<HTTPResponseSummary, HTTPError>?
    var failure: String?
    /// For the meter: body bytes so far, and the announced size.
    private(set) var bytes: UInt64 = 0
    private(set) var total: UInt64?

    init(sink: FileSink, done: @escaping () -> Void) {
        self.sink = sink
        self.done = done
    }

    /// Undoes the content coding under `--compressed` (the task refuses one otherwise).
    private var pump: DecodePump?

    func task(_ task: HTTPTask, didReceiveHead head: HTTPResponseHead) {
        bytes = 0
        total = head.headers["Transfer-Encoding"] == nil ? head.headers["Content-Length"].flatMap(UInt64.init) : nil
        let codings = head.headers.values("Content-Encoding").flatMap { $0.split(separator: ",") }.map {
            String($0.filter { $0 != " " && $0 != "\t" })
        }.filter { !$0.isEmpty && $0.lowercased() != "identity" }
        guard !codings.isEmpty else { return }
        do {
            pump = try DecodePump(contentCodings: codings, file: nil)
        } catch {
            stop(task, "\(error)")
        }
    }

    func task(_ task: HTTPTask, didReceive bytes: UnsafeRawBufferPointer) {
        guard failure == nil else { return }
        self.bytes += UInt64(bytes.count)
        guard let pump else { return write(bytes, task) }
        do {
            // A file takes every piece at once: nothing is ever held.
            try pump.push(bytes) { piece in
                self.write(piece, task)
                return self.failure == nil
            }
        } catch {
            stop(task, "\(error)")
        }
    }

    private func write(_ bytes: UnsafeRawBufferPointer, _ task: HTTPTask) {
        if let error = sink.write(bytes) { stop(task, "writing the output: \(error)") }
    }

    private func stop(_ task: HTTPTask, _ reason: String) {
        guard failure == nil else { return }
        failure = reason
        task.cancel()
    }

    func task(_ task: HTTPTask, didFinish result: Result<HTTPResponseSummary, HTTPError>) {
        var result = result
        if case .success = result, failure == nil, let pump {
            do {
                try pump.finish { piece in
                    self.write(piece, task)
                    return true
                }
            } catch {
                failure = "\(error)"
            }
            if let failure { result = .failure(.invalidRequest(failure)) }
        }
        if let failure, case .failure(.cancelled) = result {
            self.result = .failure(.invalidRequest(failure))
        } else {
            self.result = result
        }
        done()
    }
}

/// `get`'s progress meter on a terminal: one line on stderr, redrawn in place ten times a second, gone at the end.
private final class Meter {
    let name: String
    let kind: TerminalKind
    let started = MonotonicClock.monotonicNanoseconds()
    private var shown = false

    init(name: String, kind: TerminalKind) {
        self.name = name
        self.kind = kind
    }

    /// A meter when stderr is a terminal that can redraw, and the body does not go to that same terminal.
    static func make(name: String, output: String) -> Meter? {
        let kind = TerminalKind(environment: processEnvironment())
        guard Terminal.isTerminal(2), kind.redraws, output != "-" || !Terminal.isTerminal(1) else { return nil }
        return Meter(name: name, kind: kind)
    }

    /// What the meter calls the download: the file's name, else the URL's last path segment.
    static func name(output: String, url: HTTPURL) -> String {
        let path = output == "-" ? url.path.split(separator: "?").first.map(String.init) ?? "" : output
        return path.split(separator: "/").last.map(String.init) ?? "-"
    }

    func draw(_ bytes: UInt64, _ total: UInt64?) {
        let elapsed = Int((MonotonicClock.monotonicNanoseconds() - started) / 1_000_000)
        let line = LiveLines.meter(
            name: name, bytes: bytes, total: total, elapsedMS: elapsed, width: Terminal.width(), kind: kind)
        writeOut("\r" + line + "\u{1B}[K", to: 2)
        shown = true
    }

    func clear() {
        if shown { writeOut("\r\u{1B}[K", to: 2) }
        shown = false
    }
}

/// The output of `get`: stdout, or a file written as NAME.part-PID and renamed at the end.
final class FileSink {
    let path: String
    let file: File
    let temporary: String?

    struct OpenError: Error, CustomStringConvertible {
        let description: String
    }

    init(path: String) throws(OpenError) {
        self.path = path
        if path == "-" {
            file = File.standardOutput()
            temporary = nil
            return
        }
        let temporary = "\(path).part-\(getpid())"
        do {
            file = try File(temporary, .truncate)
        } catch {
            throw OpenError(description: "cannot write '\(temporary)': \(error.reason)")
        }
        self.temporary = temporary
    }

    /// The reader of stdout went away (`| head`): what it wanted, it has.
    private(set) var readerGone = false

    /// nil when written, else why not.
    func write(_ bytes: UnsafeRawBufferPointer) -> String? {
        do {
            try file.write(bytes)
            return nil
        } catch {
            if temporary == nil && error.errno == EPIPE { readerGone = true }
            return error.reason
        }
    }

    func commit() throws(OpenError) {
        guard let temporary else { return }
        do {
            try file.closeReporting()
            try File.rename(temporary, to: path)
        } catch {
            try? File.remove(temporary)
            throw OpenError(description: "cannot finish '\(path)': \(error.reason)")
        }
    }

    func discard() {
        guard let temporary else { return }
        file.close()
        try? File.remove(temporary)
    }
}

/// The process environment as a dictionary (no Foundation).
func processEnvironment() -> [String: String] {
    var result: [String: String] = [:]
    var entry = environ
    while let pointer = entry.pointee {
        let text = String(cString: pointer)
        if let equals = text.firstIndex(of: "=") {
            result[String(text[..<equals])] = String(text[text.index(after: equals)...])
        }
        entry += 1
    }
    return result
}
