@_spi(Internals) import Reactor
@_spi(Internals) import TLS

/// What a response's consumer hears, on the loop thread.
public protocol HTTPResponseDelegate: AnyObject {
    /// The final response's head (after redirects): status 2xx, or any status when the request accepts any. Pause the
    /// task here if the sink is not ready.
    func task(_ task: HTTPTask, didReceiveHead head: HTTPResponseHead)
    /// Body bytes, valid only during the call.
    func task(_ task: HTTPTask, didReceive bytes: UnsafeRawBufferPointer)
    /// The end: the whole body arrived, or why not. Called exactly once.
    func task(_ task: HTTPTask, didFinish result: Result<HTTPResponseSummary, HTTPError>)
}

/// What a finished download looked like, for logs and the run summary (URLs redacted).
public struct HTTPResponseSummary: Sendable {
    public var finalURL: String
    public var status: Int
    public var redirects: [String]
    public var bodyBytes: UInt64
    public var reusedConnection: Bool
    public var tlsVersion: String?
}

/// An HTTP/1.1 client on an event loop: streams response bodies to a delegate with backpressure, reuses keep-alive
/// connections per origin, follows redirects, goes through proxies. Loop-bound, like everything on the loop.
public final class HTTPClient {
    public struct Configuration: Sendable {
        public var tls = TLSConfiguration()
        public var connectTimeoutMS = 10_000
        /// No byte from the server for this long (while the consumer is not paused) fails the download.
        public var idleTimeoutMS = 30_000
        public var totalTimeoutMS: Int?
        public var maxRedirects = 10
        public var userAgent = ProductVersion.userAgent
        public var proxies = ProxySettings()
        public var maxIdleConnectionsPerOrigin = 4
        public var idleConnectionLifetimeMS = 30_000
        @_spi(Internals) public var limits = HTTPResponseParser.Limits()
        @_spi(Internals) public var tcp = StreamLimits()
        /// Where request and response heads go, masked (`--trace`); nil: nowhere, and no line is built.
        @_spi(Internals) public var trace: ProtocolTrace?

        public init() {}
    }

    public let loop: EventLoop
    public let configuration: Configuration
    let pool: ConnectionPool
    /// Tasks in flight, held here so that a caller need not keep them.
    var active: [ObjectIdentifier: HTTPTask] = [:]
    private var context: Result<TLSContext, TLSError>?
    private var closeHook: UInt64 = 0

    public init(loop: EventLoop, configuration: Configuration = Configuration()) {
        self.loop = loop
        self.configuration = configuration
        pool = ConnectionPool(
            loop: loop, maxPerKey: configuration.maxIdleConnectionsPerOrigin,
            lifetimeMS: configuration.idleConnectionLifetimeMS)
        // The loop closing ends what is in flight (an async caller would otherwise wait for ever) and the pool.
        closeHook = loop.addCloseHook { [weak self] in self?.close() }
    }

    deinit { loop.removeCloseHook(closeHook) }

    /// Starts a request. `headers` are sent to the first origin only: a redirect to another origin drops them, as it
    /// drops credentials from the URL. `body` goes with its Content-Length (POST, PUT); a 303, or a 301/302 after a
    /// POST, follows with a GET without it. A final status outside 2xx fails the task with `.status` unless
    /// `acceptsAnyStatus`: then the delegate hears that head and its body like any other. The task holds `delegate`
    /// until it finishes.
    @discardableResult
    public func request(
        _ url: HTTPURL, method: String = "GET", headers: HTTPHeaders = HTTPHeaders(), body: [UInt8]? = nil,
        idleTimeoutMS: Int? = nil, acceptsAnyStatus: Bool = false, delegate: any HTTPResponseDelegate
    ) -> HTTPTask {
        loop.assertInLoop()
        let task = HTTPTask(
            client: self, url: url, method: method, headers: headers, body: body,
            idleTimeoutMS: idleTimeoutMS ?? configuration.idleTimeoutMS, acceptsAnyStatus: acceptsAnyStatus,
            delegate: delegate)
        active[ObjectIdentifier(task)] = task
        task.start()
        return task
    }

    /// As `request(_:method:headers:…)`, for a caller that decodes the content codings in `decodes` itself (`gzip`,
    /// `x-gzip`, `deflate`): every hop asks for gzip (`Accept-Encoding: gzip`, unless `headers` name their own), and a
    /// body in one of those codings reaches the delegate as it came, its head saying which (`Content-Encoding`).
    /// `acceptsNotModified`: the headers make the request conditional, and a 304 reaches the delegate (no body).
    @_spi(Internals) @discardableResult
    public func request(
        _ url: HTTPURL, headers: HTTPHeaders = HTTPHeaders(), idleTimeoutMS: Int? = nil, decodes: Set<String>,
        acceptsNotModified: Bool = false, delegate: any HTTPResponseDelegate
    ) -> HTTPTask {
        loop.assertInLoop()
        let task = HTTPTask(
            client: self, url: url, method: "GET", headers: headers, body: nil,
            idleTimeoutMS: idleTimeoutMS ?? configuration.idleTimeoutMS, acceptsAnyStatus: false, decodes: decodes,
            acceptsNotModified: acceptsNotModified, delegate: delegate)
        active[ObjectIdentifier(task)] = task
        task.start()
        return task
    }

    /// Cancels what is in flight and closes the idle pooled connections; a connection a later request releases is
    /// closed too, never pooled.
    public func close() {
        loop.assertInLoop()
        for task in active.values { task.cancel() }
        pool.closeAll()
    }

    @_spi(Internals) public var idleConnectionCount: Int { pool.idleCount }
    /// The bytes of buffers each idle pooled connection holds (see `ByteStream.role`).
    @_spi(Internals) public var idleConnectionBufferBytes: [Int] { pool.idleBufferBytes }

    /// The TLS context, made on first use: SSL_CTX_new costs ≈ 1 ms a plain-HTTP run need not pay.
    func tlsContext() -> Result<TLSContext, TLSError> {
        if let context { return context }
        let made: Result<TLSContext, TLSError>
        do {
            made = .success(try TLSContext.shared(configuration.tls))
        } catch {
            made = .failure(error)
        }
        context = made
        return made
    }
}
