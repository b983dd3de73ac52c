@_spi(Internals) import Reactor

/// TLS stacked on another byte stream (TCP, or a proxy tunnel): a `ByteStream` of plaintext over a `ByteStream` of
/// ciphertext, driven by the loop. It owns the stream below it.
@_spi(Internals) public final class TLSStream: ByteStream, ByteStreamDelegate {
    public typealias Completion = (Result<TLSStream, TLSError>) -> Void

    public let loop: EventLoop
    public weak var delegate: (any ByteStreamDelegate)?
    public let engine: TLSEngine
    private let underlying: any ByteStream

    private enum State {
        case handshaking
        case open
        case closed
    }

    private var state = State.handshaking
    private var handshakeCompletion: Completion?
    private var handshakeTimer: TimerID?
    private var plaintext: UnsafeMutableRawBufferPointer
    /// Our delegate is handling decrypted bytes: `plaintext` must stay where it is until it returns.
    private var delivering = false
    private var readingPaused = false
    /// Our delegate has heard the end of the peer's data; nothing more will be read.
    private var inputReported = false
    private var outputShutDown = false
    /// The stream below ended (the peer's FIN, for TCP).
    private var underlyingEnded = false
    private var drainTimer: TimerID?
    private var failureTimer: TimerID?
    /// Plaintext held back until it fills a whole record (`fullRecords`).
    private var staged: UnsafeMutableRawBufferPointer?
    private var stagedCount = 0
    static let recordSize = 16 * 1024
    /// Decrypted bytes are gathered into 256 KiB while receiving a transfer, so that whatever the delegate writes to
    /// sees a few large chunks; in any other role 4 KiB do (OpenSSL keeps the rest of a record until the next read).
    static let receivingPlaintextSize = 256 * 1024
    static let controlPlaintextSize = 4 * 1024

    /// See `ByteStream.role`. Receiving: large reads below and large decrypted chunks; sending: the send queue below
    /// keeps its storage. Either way OpenSSL keeps its record buffers until the transfer ends. Back to control: every
    /// buffer small again, OpenSSL's included.
    public var role = StreamRole.control {
        didSet {
            guard role != oldValue else { return }
            underlying.role = role
            engine.transferring = role != .control
            if role == .control { releaseOwed = true }
            if !delivering { fitBuffers() }
        }
    }

    private func fitBuffers() {
        let wanted = role == .receiving ? Self.receivingPlaintextSize : Self.controlPlaintextSize
        if plaintext.count != wanted {
            plaintext.deallocate()
            plaintext = .allocate(byteCount: wanted, alignment: 16)
        }
        guard releaseOwed, role == .control, state == .open else { return }
        releaseOwed = !engine.releaseBuffers()
        if stagedCount == 0, let staged {
            staged.deallocate()
            self.staged = nil
        }
    }

    public var heldBufferBytes: Int {
        plaintext.count + (staged?.count ?? 0) + engine.heldBufferBytes + underlying.heldBufferBytes
    }

    /// A transfer ended and its memory is not given back yet (the engine's BIOs still held bytes last time).
    private var releaseOwed = false

    /// For bulk senders (the FTP data channel): writes are cut into full 16 KiB TLS records and a partial one waits
    /// for more, until `shutdownOutput`. Small records cost the receiver most (SERVERS.md: vsftpd spends ~2× the CPU
    /// on 8 KiB records that it spends on full ones), and our reads arrive in whatever sizes the network chose.
    public var fullRecords = false

    private init(over underlying: any ByteStream, engine: TLSEngine) {
        loop = underlying.loop
        self.underlying = underlying
        self.engine = engine
        plaintext = .allocate(byteCount: Self.controlPlaintextSize, alignment: 16)
        underlying.delegate = self
        engine.transport = underlying
    }

    deinit {
        plaintext.deallocate()
        staged?.deallocate()
    }

    /// Starts a client handshake over `stream`. `completion` runs once on the loop with the ready stream, or with the
    /// error after which `stream` has been closed.
    public static func connect(
        over stream: any ByteStream, context: TLSContext, serverName: String, session: TLSSession? = nil,
        handshakeTimeoutMS: Int = 10_000, completion: @escaping Completion
    ) {
        stream.loop.assertInLoop()
        let engine: TLSEngine
        do {
            engine = try TLSEngine(context: context, serverName: serverName, session: session)
        } catch {
            stream.close()
            stream.loop.scheduleTimer(afterMilliseconds: 0) { completion(.failure(error)) }
            return
        }
        TLSStream(over: stream, engine: engine).start(timeoutMS: handshakeTimeoutMS, completion)
    }

    /// Starts a server handshake over an accepted stream (tests' own TLS servers).
    public static func accept(
        over stream: any ByteStream, context: TLSContext, handshakeTimeoutMS: Int = 10_000,
        completion: @escaping Completion
    ) {
        stream.loop.assertInLoop()
        let engine: TLSEngine
        do {
            engine = try TLSEngine(serverContext: context, label: stream.peerDescription)
        } catch {
            stream.close()
            stream.loop.scheduleTimer(afterMilliseconds: 0) { completion(.failure(error)) }
            return
        }
        TLSStream(over: stream, engine: engine).start(timeoutMS: handshakeTimeoutMS, completion)
    }

    private func start(timeoutMS: Int, _ completion: @escaping Completion) {
        handshakeCompletion = completion
        let host = engine.host
        // The timer's closure holds the stream until the handshake ends one way or the other.
        handshakeTimer = loop.scheduleTimer(afterMilliseconds: timeoutMS) {
            self.handshakeTimer = nil
            self.finishHandshake(.failure(.handshakeTimeout(host: host, milliseconds: timeoutMS)))
        }
        advanceHandshake()
    }

    public var peerDescription: String { underlying.peerDescription }
    public var peerAddress: SocketAddress { underlying.peerAddress }
    /// This layer's session (a TLS stream inside a proxy's TLS tunnel reports the inner, end-to-end one).
    public var tls: TLSDetails? {
        TLSDetails(version: engine.protocolVersion, sessionResumed: engine.isSessionResumed)
    }
    /// The session a second connection to the same server should offer (see `TLSEngine.resumableSession`).
    public var resumableSession: TLSSession? { engine.resumableSession }

    // MARK: handshake

    private func advanceHandshake() {
        // A flight is several records: they leave in one send.
        underlying.cork()
        let status = engine.handshake()
        underlying.uncork()
        switch status {
        case .wantInput:
            return
        case .complete:
            state = .open
            // OpenSSL holds record buffers from the handshake: give them back before the stream settles into its role.
            releaseOwed = true
            fitBuffers()
            finishHandshake(.success(self))
            // Application data (or TLS 1.3 tickets) may have come with the last handshake flight.
            scheduleDrain()
        case .failed(let error):
            finishHandshake(.failure(error))
        }
    }

    private func finishHandshake(_ result: Result<TLSStream, TLSError>) {
        guard let completion = handshakeCompletion else { return }
        handshakeCompletion = nil
        if let handshakeTimer { loop.cancelTimer(handshakeTimer) }
        handshakeTimer = nil
        if case .failure = result { close() }
        completion(result)
    }

    // MARK: ByteStream

    public func write(_ bytes: UnsafeRawBufferPointer) {
        loop.assertInLoop()
        guard state == .open, !outputShutDown, failureTimer == nil else { return }
        // Records go below one by one as OpenSSL seals them: they leave together at the end.
        underlying.cork()
        defer { underlying.uncork() }
        guard fullRecords else {
            _ = encrypt(bytes)
            return
        }
        var rest = bytes
        let record = Self.recordSize
        let stage = staged ?? .allocate(byteCount: record, alignment: 16)
        staged = stage
        if stagedCount > 0 {
            let take = min(record - stagedCount, rest.count)
            UnsafeMutableRawBufferPointer(rebasing: stage[stagedCount..<(stagedCount + take)])
                .copyMemory(from: UnsafeRawBufferPointer(rebasing: rest[..<take]))
            stagedCount += take
            rest = UnsafeRawBufferPointer(rebasing: rest[take...])
            guard stagedCount == record else { return }
            stagedCount = 0
            guard encrypt(UnsafeRawBufferPointer(stage)) else { return }
        }
        let whole = rest.count / record * record
        if whole > 0 {
            guard encrypt(UnsafeRawBufferPointer(rebasing: rest[..<whole])) else { return }
        }
        let tail = rest.count - whole
        if tail > 0 {
            UnsafeMutableRawBufferPointer(rebasing: stage[..<tail])
                .copyMemory(from: UnsafeRawBufferPointer(rebasing: rest[whole...]))
            stagedCount = tail
        }
    }

    /// Encrypts into the engine's output; false (and the stream failing) on an error.
    private func encrypt(_ bytes: UnsafeRawBufferPointer) -> Bool {
        switch engine.write(bytes) {
        case .complete:
            return true
        case .wantInput:
            failSoon(.protocolError(host: engine.host, reason: "the peer asked for renegotiation mid-write"))
        case .failed(let error):
            failSoon(error)
        }
        return false
    }

    public var pendingWriteBytes: Int { underlying.pendingWriteBytes + stagedCount }
    public var isWritable: Bool { state == .open && underlying.isWritable }

    public func pauseReading() {
        loop.assertInLoop()
        readingPaused = true
        underlying.pauseReading()
    }

    public func resumeReading() {
        loop.assertInLoop()
        readingPaused = false
        underlying.resumeReading()
        // OpenSSL may hold decrypted bytes that no socket event will announce.
        scheduleDrain()
    }

    public func shutdownOutput() {
        loop.assertInLoop()
        guard state == .open, !outputShutDown else { return }
        if stagedCount > 0, let staged {
            let ok = encrypt(UnsafeRawBufferPointer(rebasing: staged[..<stagedCount]))
            stagedCount = 0
            guard ok else { return }
        }
        outputShutDown = true
        engine.shutdown()
        underlying.shutdownOutput()
    }

    public func close() {
        loop.assertInLoop()
        guard state != .closed else { return }
        state = .closed
        for timer in [handshakeTimer, drainTimer, failureTimer].compactMap({ $0 }) { loop.cancelTimer(timer) }
        handshakeTimer = nil
        drainTimer = nil
        failureTimer = nil
        delegate = nil
        if outputShutDown && inputReported && !underlyingEnded {
            // Both close_notify alerts are through and the peer's FIN is a moment behind its alert. Closing the
            // socket now races that FIN: one that arrives while close(2) turns the socket into its FIN_WAIT2
            // remnant is dropped unacknowledged, the peer resends it after its 200 ms retransmission timeout, and
            // vsftpd — which lingers on its data socket's close — sends 226 that much later (tcpdump: 2–3 % of
            // small FTPS uploads). Waiting for the FIN costs microseconds; a peer that never sends it, the timeout.
            underlying.closeGracefully(timeoutMS: 250)
        } else {
            underlying.delegate = nil
            underlying.close()
        }
    }

    // MARK: the stream below

    public func stream(_ stream: any ByteStream, didRead bytes: UnsafeRawBufferPointer) {
        // OpenSSL reads the ciphertext where it lies; what it has not read when this returns is kept.
        engine.lend(bytes)
        switch state {
        case .handshaking: advanceHandshake()
        case .open: drainPlaintext()
        case .closed: break
        }
        engine.keepUnread()
    }

    public func streamDidBecomeWritable(_ stream: any ByteStream) {
        if state == .open { delegate?.streamDidBecomeWritable(self) }
    }

    public func stream(_ stream: any ByteStream, didEnd end: StreamEnd) {
        switch end {
        case .eof:
            underlyingEnded = true
            engine.endOfInput()
            switch state {
            case .handshaking: advanceHandshake()
            case .open: drainPlaintext()
            case .closed: break
            }
        case .failed(let error):
            let tlsError: TLSError
            switch error {
            case .tls(let failure): tlsError = .layerBelow(failure)
            case .reset, .socket: tlsError = .transport(host: engine.host, error.socketError ?? .closed)
            }
            if state == .handshaking {
                finishHandshake(.failure(tlsError))
            } else {
                fail(tlsError)
            }
        }
    }

    // MARK: internals

    /// Delivers every decrypted byte OpenSSL has, while the delegate wants them.
    private func drainPlaintext() {
        // OpenSSL hands out one record (≤ 16 KiB) per read: gather what it has into the buffer first, so that the
        // delegate (and whatever it writes to) sees a few large chunks instead of many small ones.
        var filled = 0
        func deliver() {
            guard filled > 0 else { return }
            let count = filled
            filled = 0
            delivering = true
            delegate?.stream(self, didRead: UnsafeRawBufferPointer(rebasing: plaintext[..<count]))
            delivering = false
            fitBuffers()
        }
        while state == .open && !readingPaused && !inputReported {
            switch engine.read(into: UnsafeMutableRawBufferPointer(rebasing: plaintext[filled...])) {
            case .bytes(let count):
                filled += count
                if filled == plaintext.count { deliver() }
            case .wantInput:
                deliver()
                return
            case .closed:
                deliver()
                inputReported = true
                delegate?.stream(self, didEnd: .eof)
            case .failed(let error):
                deliver()
                fail(error)
            }
        }
        deliver()
    }

    private func scheduleDrain() {
        guard drainTimer == nil, state == .open else { return }
        drainTimer = loop.scheduleTimer(afterMilliseconds: 0) { [weak self] in
            self?.drainTimer = nil
            self?.drainPlaintext()
        }
    }

    private func failSoon(_ error: TLSError) {
        guard failureTimer == nil else { return }
        failureTimer = loop.scheduleTimer(afterMilliseconds: 0) { [weak self] in
            self?.failureTimer = nil
            self?.fail(error)
        }
    }

    private func fail(_ error: TLSError) {
        guard state != .closed else { return }
        let delegate = delegate
        inputReported = true
        close()
        delegate?.stream(self, didEnd: .failed(.tls(error.failure)))
    }
}

extension ByteStream {
    /// Sessions the stream's TLS layer received (TLS 1.3 tickets, read while the connection ran), taken once, for
    /// later connections to resume; none for a stream without TLS.
    @_spi(Internals) public func takeReceivedTLSSessions() -> [TLSSession] {
        (self as? TLSStream)?.engine.takeReceivedSessions() ?? []
    }

    /// The session a second connection to the same server should offer (see `TLSEngine.resumableSession`).
    @_spi(Internals) public var resumableTLSSession: TLSSession? { (self as? TLSStream)?.resumableSession }
}

extension TLSStream {
    /// Connects over TCP and then TLS in one step. `serverName` is the name the certificate must carry (defaults to
    /// `host`); the FTP data channel connects to an address but checks the control connection's host name.
    /// Failures below TLS come back as `TLSError.transport`.
    public static func connect(
        loop: EventLoop, host: String, port: Int, serverName: String? = nil, context: TLSContext,
        session: TLSSession? = nil, tcpOptions: TCPConnector.Options = .init(), handshakeTimeoutMS: Int = 10_000,
        completion: @escaping Completion
    ) {
        let name = serverName ?? host
        TCPConnector(loop: loop, options: tcpOptions).connect(host: host, port: port) { result in
            switch result {
            case .failure(let error):
                completion(.failure(.transport(host: name, error)))
            case .success(let connection):
                connect(
                    over: connection, context: context, serverName: name, session: session,
                    handshakeTimeoutMS: handshakeTimeoutMS, completion: completion)
            }
        }
    }
}
