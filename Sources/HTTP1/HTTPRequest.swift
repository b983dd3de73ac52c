/// One request for the async API (`HTTPClientHandle.execute`): what `HTTPClient.request` takes besides a delegate.
public struct HTTPRequest: Sendable {
    public var url: HTTPURL
    public var method: String
    /// Sent to the first origin only (a redirect elsewhere drops them).
    public var headers: HTTPHeaders
    /// Sent with its Content-Length (POST, PUT).
    public var body: [UInt8]?
    /// Hand a final head outside 2xx (and its body) to the caller instead of failing with `HTTPError.status`.
    public var acceptsAnyStatus: Bool
    /// nil: the client's `idleTimeoutMS`.
    public var idleTimeoutMS: Int?

    public init(
        _ url: HTTPURL, method: String = "GET", headers: HTTPHeaders = HTTPHeaders(), body: [UInt8]? = nil,
        acceptsAnyStatus: Bool = false, idleTimeoutMS: Int? = nil
    ) {
        self.url = url
        self.method = method
        self.headers = headers
        self.body = body
        self.acceptsAnyStatus = acceptsAnyStatus
        self.idleTimeoutMS = idleTimeoutMS
    }
}

/// The answer to an async request: the final head, and the body still to be read from the connection.
public struct HTTPResponse: Sendable {
    public let head: HTTPResponseHead
    /// A single-pass sequence of chunks with backpressure (see `HTTPBody`). Its type is opaque: its name and the
    /// operators every `AsyncSequence` gets are not surface of ours; `any AsyncSequence<[UInt8], HTTPError>` stores it.
    public var body: some AsyncSequence<[UInt8], HTTPError> & Sendable { bodySequence }
    @_spi(Internals) public let bodySequence: HTTPBody

    init(head: HTTPResponseHead, body: HTTPBody) {
        self.head = head
        bodySequence = body
    }
}
