@_spi(Internals) import Reactor
@_spi(Internals) import TLS

/// One request in flight, across its redirects and a possible retry on a fresh connection. Pause and resume it to
/// apply backpressure: while paused, its socket is not read.
public final class HTTPTask {
    public private(set) var url: HTTPURL
    /// The URLs redirected from, in order (redacted).
    public private(set) var redirects: [String] = []
    public private(set) var head: HTTPResponseHead?
    public private(set) var bodyBytes: UInt64 = 0
    public private(set) var reusedConnection = false
    /// The TLS version of the connection the final response came over (nil for plain HTTP).
    public private(set) var tlsVersion: String?

    private enum State {
        case connecting
        case awaitingHead
        case streaming
        case discardingRedirect(HTTPURL)
        case finished
    }

    /// What the caller asked for besides the URL: unlike `url`, it stays as it was across redirects.
    private struct Request {
        /// A 303 (or a 301/302 after POST) turns the request into a GET without its body, as browsers do.
        var method: String
        /// Sent to the first origin only.
        var headers: HTTPHeaders
        var body: [UInt8]?
        let firstOrigin: String
        let idleTimeoutMS: Int
        /// The caller takes a final head of any status (with its body) instead of a `.status` error.
        let acceptsAnyStatus: Bool
        /// Content codings the caller decodes itself: asked for on every hop, and a body in one of them is handed over
        /// as it came. Empty: identity only, anything else refused.
        let decodes: Set<String>
        /// A conditional request (If-None-Match, If-Modified-Since): its 304 is an answer, not a failure.
        let acceptsNotModified: Bool

        /// Safe to send again on a fresh connection when a kept-alive one turns out stale (RFC 9110 §9.2.2).
        var isIdempotent: Bool {
            ["GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE"].contains(method.uppercased())
        }
    }

    private let client: HTTPClient
    private var request: Request
    private var delegate: (any HTTPResponseDelegate)?
    private var state = State.connecting
    private var stream: (any ByteStream)?
    private lazy var streamEvents = HTTPTaskStreamEvents(task: self)
    /// The stream's number in the trace (0 when untraced); a reused keep-alive connection keeps its number.
    private var connection = 0
    private var poolKey: ConnectionPool.Key?
    private var parser: HTTPResponseParser
    private var staleRetryUsed = false
    private var paused = false
    /// Input the parser has not taken yet because the consumer paused mid-chunk (at most one read's worth).
    private var pending: [UInt8] = []
    private var lastActivity: UInt64 = 0
    private var idleTimer: TimerID?
    private var totalTimer: TimerID?
    private var discarded = 0
    /// Work that must wait until the parser has returned (it would touch the parser while it is being mutated).
    private var afterParse: (() -> Void)?

    init(
        client: HTTPClient, url: HTTPURL, method: String, headers: HTTPHeaders, body: [UInt8]?, idleTimeoutMS: Int,
        acceptsAnyStatus: Bool, decodes: Set<String> = [], acceptsNotModified: Bool = false,
        delegate: any HTTPResponseDelegate
    ) {
        self.client = client
        self.url = url
        self.delegate = delegate
        request = Request(
            method: method, headers: headers, body: body, firstOrigin: url.origin, idleTimeoutMS: idleTimeoutMS,
            acceptsAnyStatus: acceptsAnyStatus, decodes: decodes, acceptsNotModified: acceptsNotModified)
        parser = HTTPResponseParser(requestMethod: method, limits: client.configuration.limits)
    }

    private var loop: EventLoop { client.loop }
    /// The loop the task runs on (for consumers that schedule their own timers).
    public var eventLoop: EventLoop { client.loop }
    private var configuration: HTTPClient.Configuration { client.configuration }

    func start() {
        if let total = configuration.totalTimeoutMS {
            totalTimer = loop.scheduleTimer(afterMilliseconds: total) { [weak self] in
                guard let self else { return }
                self.totalTimer = nil
                self.finish(.failure(.timeout(url: self.url.redacted, phase: .total, milliseconds: total)))
            }
        }
        startHop()
    }

    // MARK: control

    public func pause() {
        loop.assertInLoop()
        guard !paused else { return }
        paused = true
        stream?.pauseReading()
    }

    public func resume() {
        loop.assertInLoop()
        guard paused else { return }
        paused = false
        lastActivity = MonotonicClock.monotonicNanoseconds()
        stream?.resumeReading()
        if !pending.isEmpty {
            // Feed what was held back on the next turn: never re-entrantly inside the caller's resume().
            loop.scheduleTimer(afterMilliseconds: 0) { [weak self] in self?.drainPending() }
        }
    }

    /// Feeds held-back input in order, until it is gone or the consumer pauses again.
    private func drainPending() {
        while !paused && !pending.isEmpty && stream != nil {
            let held = pending
            pending = []
            held.withUnsafeBytes { consume($0) }
        }
    }

    public var isPaused: Bool { paused }

    /// Stops the request; the delegate hears `.cancelled`.
    public func cancel() {
        loop.assertInLoop()
        finish(.failure(.cancelled))
    }

    // MARK: connecting

    private func startHop() {
        state = .connecting
        let proxy = configuration.proxies.proxy(for: url)
        let key = ConnectionPool.Key(origin: url.origin, proxy: proxy?.origin)
        poolKey = key
        // A request that may not be sent twice goes on a fresh connection: a stale pooled one could not be retried.
        if request.isIdempotent, let reused = client.pool.take(key) {
            attach(reused.stream, reused: true, connection: reused.connection)
            return
        }
        startFresh()
    }

    private func attach(_ stream: any ByteStream, reused: Bool, connection: Int = 0) {
        self.stream = stream
        self.connection = connection
        if connection == 0 && configuration.trace != nil { self.connection = ProtocolTrace.nextConnectionNumber() }
        reusedConnection = reused
        tlsVersion = stream.tls?.version
        stream.delegate = streamEvents
        parser.reset(requestMethod: request.method)
        pending = []
        let encoded: [UInt8]
        do {
            encoded = try encodeRequest()
        } catch {
            return finish(.failure(.invalidRequest("\(error)")))
        }
        stream.write(encoded)
        traceRequest(encoded)
        if let body = request.body, !body.isEmpty { stream.write(body) }
        state = .awaitingHead
        if paused { stream.pauseReading() } else { stream.resumeReading() }
        lastActivity = MonotonicClock.monotonicNanoseconds()
        armIdleTimer()
    }

    private func encodeRequest() throws(HTTPRequestEncoder.InvalidHeader) -> [UInt8] {
        var fields = HTTPHeaders()
        let sameOrigin = url.origin == request.firstOrigin
        if let user = url.user {
            fields.add("Authorization", HTTPRequestEncoder.basicAuthorization(user: user, password: url.password ?? ""))
        }
        if sameOrigin {
            for field in request.headers.fields { fields.add(field.name, field.value) }
        }
        if !request.decodes.isEmpty && fields["Accept-Encoding"] == nil {
            // gzip is what servers compress with (nginx, Apache, CDNs); deflate is decoded too should one send it.
            fields.add("Accept-Encoding", "gzip")
        }
        if let body = request.body {
            fields.remove("Content-Length")
            fields.add("Content-Length", String(body.count))
        }
        var target = url.requestTarget
        if let proxy = configuration.proxies.proxy(for: url), url.scheme == .http {
            // A forward proxy takes the absolute form (RFC 9112 §3.2.2), and its own credentials.
            var bare = url
            bare.user = nil
            bare.password = nil
            target = bare.description
            if let authorization = HTTPConnector.proxyAuthorization(proxy) {
                fields.add("Proxy-Authorization", authorization)
            }
        }
        return try HTTPRequestEncoder.encode(
            method: request.method, target: target, authority: url.authority, userAgent: configuration.userAgent,
            headers: fields)
    }

    // MARK: timers

    private func armIdleTimer() {
        if let idleTimer { loop.cancelTimer(idleTimer) }
        let idle = request.idleTimeoutMS
        // One timer per idle period, not one per read: it checks the time of the last byte when it fires.
        idleTimer = loop.scheduleTimer(afterMilliseconds: idle) { [weak self] in
            guard let self else { return }
            self.idleTimer = nil
            guard self.stream != nil else { return }
            let silentMS = Int((MonotonicClock.monotonicNanoseconds() - self.lastActivity) / 1_000_000)
            if self.paused || silentMS < idle {
                if self.paused { self.lastActivity = MonotonicClock.monotonicNanoseconds() }
                return self.armIdleTimer()
            }
            self.finish(.failure(.timeout(url: self.url.redacted, phase: .idle, milliseconds: idle)))
        }
    }

    // MARK: the stream

    func stream(_ stream: any ByteStream, didRead bytes: UnsafeRawBufferPointer) {
        guard isCurrent(stream) else { return }
        lastActivity = MonotonicClock.monotonicNanoseconds()
        if paused || !pending.isEmpty {
            // Bytes that were on their way when the consumer paused, or that must queue behind held-back ones.
            pending.append(contentsOf: bytes)
            drainPending()
            return
        }
        consume(bytes)
    }

    private func consume(_ bytes: UnsafeRawBufferPointer) {
        var consumed = 0
        do {
            consumed = try parser.feed(bytes) { event in self.handle(event) }
        } catch {
            return fail(error)
        }
        if let action = afterParse {
            afterParse = nil
            return action()
        }
        if consumed < bytes.count, self.stream != nil, case .streaming = state {
            pending.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[consumed...]))
        }
    }

    /// Returns false to stop the parser (the consumer paused, or the task ended).
    private func handle(_ event: HTTPResponseParser.Event) -> Bool {
        switch (state, event) {
        case (.awaitingHead, .interim(let head)), (.discardingRedirect, .interim(let head)):
            traceHead(head)
            return true
        case (.awaitingHead, .head(let head)):
            return receivedHead(head)
        case (.streaming, .body(let bytes)):
            bodyBytes += UInt64(bytes.count)
            delegate?.task(self, didReceive: bytes)
        case (.discardingRedirect, .body(let bytes)):
            discarded += bytes.count
            if discarded > 64 * 1024 {
                // A long redirect body is not worth reading to keep the connection: drop both.
                guard case .discardingRedirect(let next) = state else { return false }
                closeStream()
                afterParse = { self.follow(next) }
                return false
            }
        case (.streaming, .end(let keepAlive)):
            releaseStream(keepAlive: keepAlive)
            finish(.success(summary))
            return false
        case (.discardingRedirect(let next), .end(let keepAlive)):
            releaseStream(keepAlive: keepAlive)
            afterParse = { self.follow(next) }
            return false
        default:
            return false
        }
        if case .finished = state { return false }
        return !paused
    }

    private func receivedHead(_ head: HTTPResponseHead) -> Bool {
        traceHead(head)
        if [301, 302, 303, 307, 308].contains(head.status), let location = head.headers["Location"] {
            do {
                let next = try redirectTarget(location)
                if head.status == 303 || (request.method == "POST" && head.status <= 302) {
                    request.method = request.method == "HEAD" ? "HEAD" : "GET"
                    request.body = nil
                    // The caller's own framing of the dropped body must not go with the bodiless request.
                    request.headers.remove("Content-Length")
                    request.headers.remove("Content-Type")
                }
                state = .discardingRedirect(next)
                discarded = 0
                return true
            } catch {
                finish(.failure(error))
                return false
            }
        }
        let encodings = head.headers.values("Content-Encoding").map { $0.lowercasedASCII() }.filter {
            $0 != "identity" && !request.decodes.contains($0)
        }
        if !encodings.isEmpty {
            finish(
                .failure(.unsupportedContentEncoding(url: url.redacted, encoding: encodings.joined(separator: ", "))))
            return false
        }
        guard
            (200..<300).contains(head.status) || request.acceptsAnyStatus
                || (head.status == 304 && request.acceptsNotModified)
        else {
            let retryAfter = head.headers["Retry-After"].flatMap {
                RetryAfter.seconds($0, now: MonotonicClock.unixSeconds())
            }
            finish(.failure(.status(url: url.redacted, code: head.status, reason: head.reason, retryAfter: retryAfter)))
            return false
        }
        self.head = head
        state = .streaming
        // A body of more than a couple of reads streams through the large buffers; the pool takes the stream back
        // small (`releaseStream`).
        let length = head.headers["Content-Length"].flatMap { Int($0) } ?? Int.max
        if length > 16 * 1024 { stream?.role = .receiving }
        delegate?.task(self, didReceiveHead: head)
        if case .finished = state { return false }
        return !paused
    }

    private func redirectTarget(_ location: String) throws(HTTPError) -> HTTPURL {
        let next: HTTPURL
        do {
            next = try url.resolving(location)
        } catch {
            throw .redirect(url: url.redacted, reason: "invalid Location '\(location)': \(error.reason)")
        }
        if url.scheme == .https && next.scheme == .http {
            throw .redirect(url: url.redacted, reason: "refused to follow https to http (\(next.redacted))")
        }
        if redirects.count >= configuration.maxRedirects {
            throw .redirect(url: url.redacted, reason: "more than \(configuration.maxRedirects) redirects")
        }
        if next.redacted == url.redacted || redirects.contains(next.redacted) {
            throw .redirect(url: url.redacted, reason: "redirect loop back to \(next.redacted)")
        }
        return next
    }

    private func follow(_ next: HTTPURL) {
        redirects.append(url.redacted)
        // Credentials from the URL go along within the same origin only (a relative Location keeps them already).
        var next = next
        if next.origin == url.origin && next.user == nil {
            next.user = url.user
            next.password = url.password
        }
        url = next
        staleRetryUsed = false
        startHop()
    }

    // MARK: trace

    private func traceRequest(_ request: [UInt8]) {
        configuration.trace?.recordRequest(request, connection: connection)
    }

    private func traceHead(_ head: HTTPResponseHead) {
        configuration.trace?.recordHead(head, connection: connection)
    }

    private func isCurrent(_ other: any ByteStream) -> Bool {
        guard let stream else { return false }
        return stream === other
    }

    func streamDidBecomeWritable(_ stream: any ByteStream) {}

    func stream(_ stream: any ByteStream, didEnd end: StreamEnd) {
        guard isCurrent(stream) else { return }
        switch end {
        case .eof:
            do {
                try parser.finish { event in self.handle(event) }
            } catch {
                return fail(error)
            }
            if let action = afterParse {
                afterParse = nil
                return action()
            }
            // The end of a close-delimited body released the stream; any other EOF ended nothing.
            if isCurrent(stream) { connectionLost("the server closed the connection") }
        case .failed(let error):
            // Over TLS this includes a close without close_notify: a close-delimited body may be cut, so it fails.
            connectionLost("\(error)")
        }
    }

    private func fail(_ error: HTTPParseError) {
        if error.kind == .closedBeforeResponse {
            return connectionLost("the server closed the connection before responding")
        }
        closeStream()
        if error.kind == .truncated {
            finish(.failure(.truncated(url: url.redacted, error)))
        } else {
            finish(.failure(.protocolError(url: url.redacted, error)))
        }
    }

    private func connectionLost(_ reason: String) {
        guard stream != nil else { return }
        closeStream()
        // A kept-alive connection the server had already closed: the request never reached it, so send it again
        // once, on a new connection (RFC 9112 §9.3.1 allows it for idempotent requests).
        if reusedConnection && !parser.hasStarted && !staleRetryUsed && request.isIdempotent, case .awaitingHead = state
        {
            staleRetryUsed = true
            return startFresh()
        }
        finish(.failure(.connectionLost(url: url.redacted, reason: reason)))
    }

    /// Opens a new connection for the current hop (a pooled one was not there, or turned out stale).
    private func startFresh() {
        state = .connecting
        let proxy = configuration.proxies.proxy(for: url)
        let timeoutMS = min(configuration.connectTimeoutMS, request.idleTimeoutMS)
        // Numbered now, so that a proxy's CONNECT exchange is traced under the number of the connection it opens.
        let number = configuration.trace == nil ? 0 : ProtocolTrace.nextConnectionNumber()
        let connector = HTTPConnector(
            client: client, url: url, proxy: proxy, timeoutMS: timeoutMS, traceConnection: number)
        connector.open { [weak self] result in
            guard let self, case .connecting = self.state else {
                if case .success(let stream) = result { stream.close() }
                return
            }
            switch result {
            case .success(let stream): self.attach(stream, reused: false, connection: number)
            case .failure(let error): self.finish(.failure(error))
            }
        }
    }

    // MARK: ending

    private func releaseStream(keepAlive: Bool) {
        guard let stream else { return }
        self.stream = nil
        if keepAlive && pending.isEmpty, let key = poolKey {
            stream.role = .control
            client.pool.put(stream, key: key, connection: connection)
        } else {
            stream.close()
        }
    }

    private func closeStream() {
        stream?.close()
        stream = nil
    }

    private var summary: HTTPResponseSummary {
        HTTPResponseSummary(
            finalURL: url.redacted, status: head?.status ?? 0, redirects: redirects, bodyBytes: bodyBytes,
            reusedConnection: reusedConnection, tlsVersion: tlsVersion)
    }

    private func finish(_ result: Result<HTTPResponseSummary, HTTPError>) {
        if case .finished = state { return }
        state = .finished
        closeStream()
        pending = []
        if let idleTimer { loop.cancelTimer(idleTimer) }
        if let totalTimer { loop.cancelTimer(totalTimer) }
        idleTimer = nil
        totalTimer = nil
        let delegate = delegate
        self.delegate = nil
        client.active.removeValue(forKey: ObjectIdentifier(self))
        delegate?.task(self, didFinish: result)
    }
}
