import Reactor

/// TLS stacked on another byte stream (TCP, or a proxy tunnel): a `ByteStream` of plaintext over a `ByteStream` of
/// ciphertext, driven by the loop. It owns the stream below it.
public final class TLSStream: ByteStream, ByteStreamDelegate {
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
    private let plaintext: UnsafeMutableRawBufferPointer
    private var readingPaused = false
    /// Our delegate has heard the end of the peer's data; nothing more will be read.
    private var inputReported = false
    private var outputShutDown = false
    private var drainTimer: TimerID?
    private var failureTimer: TimerID?

    private init(over underlying: any ByteStream, engine: TLSEngine) {
        loop = underlying.loop
        self.underlying = underlying
        self.engine = engine
        plaintext = .allocate(byteCount: 64 * 1024, alignment: 16)
        underlying.delegate = self
    }

    deinit { plaintext.deallocate() }

    /// Starts a client handshake over `stream`. `completion` runs once on the loop with the ready stream, or with the
    /// error after which `stream` has been closed.
    public static func connect(
        over stream: any ByteStream, context: TLSContext, serverName: String, session: TLSSession? = nil,
        handshakeTimeoutMS: Int = 10_000, completion: @escaping Completion
    ) {
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
    public var isResumed: Bool { engine.isSessionResumed }
    public var protocolVersion: String { engine.protocolVersion }
    /// The session a second connection to the same server should offer (see `TLSEngine.resumableSession`).
    public var resumableSession: TLSSession? { engine.resumableSession }

    // MARK: handshake

    private func advanceHandshake() {
        let status = engine.handshake()
        flushOutput()
        switch status {
        case .wantInput:
            return
        case .complete:
            state = .open
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
        guard state == .open, !outputShutDown, failureTimer == nil else { return }
        switch engine.write(bytes) {
        case .complete:
            flushOutput()
        case .wantInput:
            failSoon(.protocolError(host: engine.host, reason: "the peer asked for renegotiation mid-write"))
        case .failed(let error):
            failSoon(error)
        }
    }

    public var pendingWriteBytes: Int { underlying.pendingWriteBytes }
    public var isWritable: Bool { state == .open && underlying.isWritable }

    public func pauseReading() {
        readingPaused = true
        underlying.pauseReading()
    }

    public func resumeReading() {
        readingPaused = false
        underlying.resumeReading()
        // OpenSSL may hold decrypted bytes that no socket event will announce.
        scheduleDrain()
    }

    public func shutdownOutput() {
        guard state == .open, !outputShutDown else { return }
        outputShutDown = true
        engine.shutdown()
        flushOutput()
        underlying.shutdownOutput()
    }

    public func close() {
        guard state != .closed else { return }
        state = .closed
        for timer in [handshakeTimer, drainTimer, failureTimer].compactMap({ $0 }) { loop.cancelTimer(timer) }
        handshakeTimer = nil
        drainTimer = nil
        failureTimer = nil
        underlying.delegate = nil
        underlying.close()
        delegate = nil
    }

    // MARK: the stream below

    public func stream(_ stream: any ByteStream, didRead bytes: UnsafeRawBufferPointer) {
        engine.feed(bytes)
        switch state {
        case .handshaking: advanceHandshake()
        case .open: drainPlaintext()
        case .closed: break
        }
    }

    public func streamDidBecomeWritable(_ stream: any ByteStream) {
        if state == .open { delegate?.streamDidBecomeWritable(self) }
    }

    public func stream(_ stream: any ByteStream, didEnd end: StreamEnd) {
        switch end {
        case .eof:
            engine.endOfInput()
            switch state {
            case .handshaking: advanceHandshake()
            case .open: drainPlaintext()
            case .closed: break
            }
        case .failed(let error):
            let tlsError = (error as? TLSError)
                ?? (error as? ReactorError).map { TLSError.transport(host: engine.host, $0) }
                ?? .protocolError(host: engine.host, reason: "\(error)")
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
        while state == .open && !readingPaused && !inputReported {
            switch engine.read(into: plaintext) {
            case .bytes(let count):
                delegate?.stream(self, didRead: UnsafeRawBufferPointer(rebasing: plaintext[..<count]))
            case .wantInput:
                flushOutput()  // post-handshake messages (KeyUpdate) may need an answer
                return
            case .closed:
                inputReported = true
                flushOutput()
                delegate?.stream(self, didEnd: .eof)
            case .failed(let error):
                fail(error)
            }
        }
    }

    private func scheduleDrain() {
        guard drainTimer == nil, state == .open else { return }
        drainTimer = loop.scheduleTimer(afterMilliseconds: 0) { [weak self] in
            self?.drainTimer = nil
            self?.drainPlaintext()
        }
    }

    private func flushOutput() {
        guard engine.hasOutput else { return }
        engine.takeOutput { underlying.write($0) }
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
        delegate?.stream(self, didEnd: .failed(error))
    }
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
