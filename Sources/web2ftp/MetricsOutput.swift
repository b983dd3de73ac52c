import Glibc
@_spi(Internals) import HTTP1
@_spi(Internals) import WebToFTP

/// `--metrics-file` and `--metrics-push`, after each run (not after a dry run): the run's metrics written atomically
/// (node_exporter's textfile collector reads the file at any moment) and PUT to a Pushgateway. Neither changes the
/// run's exit code: a file that cannot be written is an ERROR line (as `--summary-json`'s), a failed push a WARN one.
enum MetricsOutput {
    /// The push gives up after this long: the run is over, and a `manual` run's exit waits for it.
    static let pushTimeoutMS = 10_000

    /// `--metrics-file`'s directory must exist and take files: said before the run (exit 2), not after it.
    static func fileProblem(_ path: String) -> String? {
        let directory = path.lastIndex(of: "/").map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
        guard access(directory, W_OK) != 0 else { return nil }
        return "--metrics-file \(path): cannot write in \(directory): \(Errno.describe(errno))"
    }

    /// Writes and pushes `summary`'s metrics as `parsed` asks, then calls `done` (at once when there is no push).
    static func publish(
        _ summary: RunSummary, parsed: RunArguments, options: RunOptions, log: RunLog, loop: EventLoop,
        then done: @escaping () -> Void
    ) {
        guard let metrics = summary.metrics, parsed.metricsFile != nil || parsed.metricsPush != nil else {
            return done()
        }
        let text = metrics.text
        if let path = parsed.metricsFile {
            do {
                // 0644: the collector often runs as another user; the text holds no secret.
                try AtomicFile.replace(path, with: text, permissions: 0o644)
            } catch {
                log.event(.error, source: nil, "metrics_file", [("path", path), ("reason", error.reason)])
            }
        }
        guard let base = parsed.metricsPush else { return done() }
        MetricsPush.start(
            text, to: RunMetrics.pushURL(base, shard: parsed.shard), options: options, loop: loop, log: log,
            done: done)
    }
}

/// One PUT of the metrics text to a Pushgateway, with the run's TLS and proxy settings; logs how it went.
final class MetricsPush: HTTPResponseDelegate {
    private let client: HTTPClient
    private let url: HTTPURL
    private let log: RunLog
    private var done: (() -> Void)?
    private var status = 0
    /// The start of a refusal's body: the Pushgateway says there why it refused (an inconsistent metric).
    private var body: [UInt8] = []

    private init(client: HTTPClient, url: HTTPURL, log: RunLog, done: @escaping () -> Void) {
        self.client = client
        self.url = url
        self.log = log
        self.done = done
    }

    /// The task holds the push (its delegate) until it finishes; the push holds the client.
    static func start(
        _ text: String, to url: HTTPURL, options: RunOptions, loop: EventLoop, log: RunLog,
        done: @escaping () -> Void
    ) {
        var configuration = HTTPClient.Configuration()
        configuration.tls = options.tls
        configuration.proxies = options.proxies
        configuration.userAgent = Web2FTP.userAgent
        configuration.totalTimeoutMS = MetricsOutput.pushTimeoutMS
        let client = HTTPClient(loop: loop, configuration: configuration)
        let push = MetricsPush(client: client, url: url, log: log, done: done)
        var headers = HTTPHeaders()
        headers.add("Content-Type", "text/plain; version=0.0.4")
        client.request(
            url, method: "PUT", headers: headers, body: Array(text.utf8), acceptsAnyStatus: true, delegate: push)
    }

    func task(_ task: HTTPTask, didReceiveHead head: HTTPResponseHead) { status = head.status }

    func task(_ task: HTTPTask, didReceive bytes: UnsafeRawBufferPointer) {
        if body.count < 300 { body += bytes.prefix(300 - body.count) }
    }

    func task(_ task: HTTPTask, didFinish result: Result<HTTPResponseSummary, HTTPError>) {
        let shown = url.redacted
        switch result {
        case .success where (200..<300).contains(status):
            log.event(
                .info, source: nil, "metrics_push",
                [.init("url", .text(shown)), .init("http_status", .integer(Int64(status)))])
        case .success:
            let said = String(decoding: body, as: UTF8.self).split(separator: "\n").first.map { ": \($0)" } ?? ""
            log.event(.warning, source: nil, "metrics_push", [("url", shown), ("reason", "HTTP \(status)\(said)")])
        case .failure(let error):
            log.event(.warning, source: nil, "metrics_push", [("url", shown), ("reason", "\(error)")])
        }
        client.close()
        let done = self.done
        self.done = nil
        done?()
    }
}
