/// How a stream's inbound side ended.
@_spi(Internals) public enum StreamEnd: Sendable {
    /// The peer finished cleanly (TCP FIN; for TLS, close_notify).
    case eof
    /// The stream broke: at the socket, or in the TLS layer.
    case failed(StreamError)
}

/// What a TLS layer in a stream reports about its session, for logs and checks.
@_spi(Internals) public struct TLSDetails: Equatable, Sendable {
    /// The protocol version as OpenSSL names it ("TLSv1.3").
    public var version: String
    /// The handshake resumed an earlier session (FTP data connections must, for vsftpd's `require_ssl_reuse`).
    public var sessionResumed: Bool

    public init(version: String, sessionResumed: Bool) {
        self.version = version
        self.sessionResumed = sessionResumed
    }
}

/// See `ByteStream.role`.
@_spi(Internals) public enum StreamRole: Sendable {
    /// Commands and replies, request and response heads, or nothing (idle in a pool).
    case control
    /// A body or a download streaming in: large reads, and large decrypted chunks.
    case receiving
    /// An upload streaming out: ciphertext leaves in large sends.
    case sending
}

/// Receives a stream's events on the loop thread. After the owner calls `close()`, no further events arrive.
@_spi(Internals) public protocol ByteStreamDelegate: AnyObject {
    /// Bytes arrived. The buffer is valid only during the call: copy what must outlive it.
    func stream(_ stream: any ByteStream, didRead bytes: UnsafeRawBufferPointer)
    /// The write queue drained to its low watermark after having reached the high one: write more.
    func streamDidBecomeWritable(_ stream: any ByteStream)
    /// The inbound side ended. The outbound side may still be open (half-close); call `close()` when done.
    func stream(_ stream: any ByteStream, didEnd end: StreamEnd)
}

/// Lifetimes and threads, for every stream and its users (stated here once):
/// - Thread: a stream, its delegate and everything that drives it live on one loop's thread; the public entry points
///   of Reactor, TLS and HTTP1 assert it (`EventLoop.assertInLoop`). Other threads reach the loop only through
///   `EventLoopHandle.execute`.
/// - Ownership: exactly one owner holds a stream strongly and ends it with `close()` (or `closeGracefully`). A layer
///   owns the layer below (a `TLSStream` its TCP connection or tunnel), so closing the top closes the stack. Who owns
///   it now: the connector until its completion hands it over; then the user (an `HTTPTask` while a request runs, the
///   connection pool while it is idle, an FTP session or transfer); a hand-over sets the new `delegate`.
/// - The delegate is weak: a stream never keeps its user alive.
/// - Captures, one rule for every module (FTP's session and the pipeline state only who owns whom):
///   - a closure kept by a part and pointing at its owner (a transfer's completion, a CLI part's callback) captures
///     the owner `unowned`: a part cannot outlive its owner;
///   - a one-shot callback handed down (a connect, a handshake, a login, QUIT, a graceful close, a one-shot timer)
///     may capture strongly: it runs once and is dropped, so it leaves no cycle, and it keeps an operation that must
///     finish alive until it has run (a timer's cancellation releases it too);
///   - a closure that is kept and may run again or late (reply handlers, watch and idle timers, an answer that may
///     come after its asker ended for good) captures `[weak self]` and does nothing once the object is gone.
///
/// A bidirectional, loop-bound byte stream: plain TCP, or TLS stacked on another stream. Writes are queued and never
/// refused; `isWritable` turns false above the high watermark, and callers that respect it keep memory bounded.
@_spi(Internals) public protocol ByteStream: AnyObject {
    var loop: EventLoop { get }
    var delegate: (any ByteStreamDelegate)? { get set }
    /// Who is on the other end, for messages.
    var peerDescription: String { get }
    /// The address of the socket at the bottom of the stack (through a proxy's tunnel: the proxy's). Asked of the
    /// outermost stream; each layer passes the question down.
    var peerAddress: SocketAddress { get }
    /// The outermost TLS layer's session, nil when the stream has no TLS.
    var tls: TLSDetails? { get }
    /// For bulk senders (the FTP data channel): a TLS layer cuts writes into full records and holds a partial one
    /// until more comes or the output is shut down. No effect on a stream without TLS.
    var fullRecords: Bool { get set }

    /// What the stream is used for now, which sizes its buffers: small ones (≤ 16 KiB in all, TLS included) for a
    /// control connection or an idle pooled one; large ones only while a transfer is in flight, given back when the
    /// role returns to `.control`. A change made while the stream is delivering bytes takes effect after the call.
    var role: StreamRole { get set }
    /// The bytes of buffers this stream and the layers below it hold now (send queues and kept ciphertext included),
    /// for the tests and figures that hold `role` to its promise.
    var heldBufferBytes: Int { get }

    /// Queues `bytes` for sending (copying what cannot be sent at once).
    func write(_ bytes: UnsafeRawBufferPointer)
    /// Until the matching `uncork()`, writes are queued and not sent, then leave together: a TLS layer hands its
    /// stream below one record at a time, and a 256 KiB write should not become sixteen sends. Calls nest.
    func cork()
    func uncork()
    /// Bytes accepted by `write` and not yet handed to the kernel (for TLS: ciphertext).
    var pendingWriteBytes: Int { get }
    /// False once the queue has reached the high watermark, until it drains to the low one.
    var isWritable: Bool { get }

    /// While paused, the stream reads nothing from its source, so the peer is slowed by TCP flow control.
    func pauseReading()
    func resumeReading()

    /// Sends the end of the outbound stream once the queue is flushed (TCP: FIN; TLS: close_notify then FIN).
    func shutdownOutput()
    /// Releases the stream at once: queued bytes are dropped and the delegate hears nothing more.
    func close()
}

extension ByteStream {
    /// A stream that sends nothing on its own (a TLS layer passes every write down at once) needs no corking.
    public func cork() {}
    public func uncork() {}

    public func write(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { write($0) }
    }

    public func write(_ text: String) {
        var text = text
        text.withUTF8 { write(UnsafeRawBufferPointer($0)) }
    }
}
