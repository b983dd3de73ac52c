import Glibc

/// Buffer and watermark sizes for a connection.
@_spi(Internals) public struct StreamLimits: Sendable {
    /// Bytes read per read(2) while the connection receives a transfer (`StreamRole.receiving`); one buffer per
    /// connection, reused for every read.
    public var readBufferSize: Int
    /// Bytes read per read(2) in any other role: replies and heads are small, and an idle connection should hold
    /// little.
    public static let controlReadBufferSize = 4 * 1024
    /// Above this many queued bytes, `isWritable` turns false.
    public var highWatermark: Int
    /// Once the queue drains to this, the delegate hears `streamDidBecomeWritable`.
    public var lowWatermark: Int

    public init(readBufferSize: Int = 256 * 1024, highWatermark: Int = 256 * 1024, lowWatermark: Int = 64 * 1024) {
        precondition(readBufferSize > 0 && lowWatermark >= 0 && lowWatermark < highWatermark)
        self.readBufferSize = readBufferSize
        self.highWatermark = highWatermark
        self.lowWatermark = lowWatermark
    }
}

/// A connected, nonblocking TCP socket on an event loop. It owns its descriptor: `close()` (or deinit) closes it.
@_spi(Internals) public final class TCPConnection: ByteStream, IOHandler, CustomStringConvertible {
    public let loop: EventLoop
    public weak var delegate: (any ByteStreamDelegate)?
    public let peer: SocketAddress
    public let local: SocketAddress
    public var limits: StreamLimits

    private var fd: Int32
    /// What the kernel has not taken yet, in order; its storage grows to the largest backlog and stays while the
    /// stream sends (`StreamRole.sending`), and goes back once it drains in any other role.
    private var queue = ByteRing()
    /// Writes are being gathered (`cork`): they are queued, and sent at the last `uncork`.
    private var corks = 0
    private var readBuffer: UnsafeMutableRawBufferPointer
    private var readingPaused = false
    private var inputEnded = false
    private var outputShutdownRequested = false
    private var outputShutDown = false
    /// Set when the queue reached the high watermark; the next drain to the low one tells the delegate.
    private var owesWritable = false
    private var pendingFailure: TimerID?
    private var registered = true
    /// The delegate is handling a read: `readBuffer` must stay where it is until it returns.
    private var delivering = false
    public var role = StreamRole.control {
        didSet {
            if !delivering { fitReadBuffer() }
            if role != .sending { queue.release() }
        }
    }

    /// Takes ownership of `fd`, a connected nonblocking socket, and registers it on `loop`.
    public init(loop: EventLoop, adopting fd: Int32, limits: StreamLimits = StreamLimits()) throws(ReactorError) {
        let peer: SocketAddress
        let local: SocketAddress
        do {
            peer = try Sys.peerAddress(fd)
            local = try Sys.localAddress(fd)
        } catch {
            Sys.close(fd)
            throw error
        }
        self.loop = loop
        self.fd = fd
        self.limits = limits
        self.peer = peer
        self.local = local
        readBuffer = .allocate(byteCount: min(limits.readBufferSize, StreamLimits.controlReadBufferSize), alignment: 16)
        do {
            try loop.register(fd, interest: .read, handler: self)
        } catch {
            // Fully initialised by now, so deinit runs and closes the descriptor.
            registered = false
            throw error
        }
    }

    deinit {
        if fd >= 0 { Sys.close(fd) }
        readBuffer.deallocate()
    }

    /// Reallocates the read buffer at the size the role asks for, if it is not that already.
    private func fitReadBuffer() {
        let wanted =
            role == .receiving ? limits.readBufferSize : min(limits.readBufferSize, StreamLimits.controlReadBufferSize)
        guard readBuffer.count != wanted else { return }
        readBuffer.deallocate()
        readBuffer = .allocate(byteCount: wanted, alignment: 16)
    }

    public var heldBufferBytes: Int { readBuffer.count + queue.capacity }
    public var isOpen: Bool { fd >= 0 }
    public var description: String {
        "TCPConnection(\(local) → \(peer), delegate: \(delegate.map { "\(type(of: $0))" } ?? "none"))"
    }
    public var peerDescription: String { peer.description }
    public var peerAddress: SocketAddress { peer }
    public var tls: TLSDetails? { nil }
    /// Plain TCP sends what it is given as it comes.
    public var fullRecords: Bool {
        get { false }
        set {}
    }
    public var descriptor: Int32 { fd }
    public var pendingWriteBytes: Int { queue.count }
    public var isWritable: Bool { fd >= 0 && queue.count < limits.highWatermark }

    // MARK: writing

    public func write(_ bytes: UnsafeRawBufferPointer) {
        loop.assertInLoop()
        guard fd >= 0, !outputShutdownRequested, pendingFailure == nil else { return }
        var rest = bytes
        if queue.isEmpty && corks == 0 {
            // The common case: the kernel takes it all and nothing is copied.
            do {
                while !rest.isEmpty, case .processed(let sent) = try Sys.send(fd, rest) {
                    rest = UnsafeRawBufferPointer(rebasing: rest[sent...])
                }
            } catch {
                failSoon(error)
                return
            }
        }
        guard !rest.isEmpty else { return }
        queue.append(rest)
        guard corks == 0 else { return }
        if queue.count >= limits.highWatermark { owesWritable = true }
        updateInterest()
    }

    public func cork() {
        corks += 1
    }

    public func uncork() {
        precondition(corks > 0, "uncork() without cork()")
        corks -= 1
        guard corks == 0, fd >= 0, pendingFailure == nil, !queue.isEmpty else { return }
        // Only what the kernel does not take now counts toward the watermark, as for a write that was not corked;
        // and no delegate call from here: the writer is inside its own write.
        do {
            try sendQueued()
        } catch {
            failSoon(error)
            return
        }
        if queue.count >= limits.highWatermark { owesWritable = true }
        if queue.isEmpty && outputShutdownRequested && !outputShutDown { shutDownNow() }
        releaseIdleQueue()
        updateInterest()
    }

    /// Sends queued bytes until the kernel would block or the queue is empty.
    private func sendQueued() throws(ReactorError) {
        while !queue.isEmpty {
            let span = queue.firstSpan
            guard case .processed(let sent) = try Sys.send(fd, span) else { return }
            queue.consume(sent)
            if sent < span.count { return }
        }
    }

    /// Outside a transfer the queue's storage goes back as soon as it is empty (a command seldom waits).
    private func releaseIdleQueue() {
        if queue.isEmpty && role != .sending { queue.release() }
    }

    private func flush() {
        guard corks == 0 else { return }
        do {
            try sendQueued()
        } catch {
            fail(error)
            return
        }
        if queue.isEmpty && outputShutdownRequested && !outputShutDown { shutDownNow() }
        releaseIdleQueue()
        updateInterest()
        if owesWritable && queue.count <= limits.lowWatermark {
            owesWritable = false
            delegate?.streamDidBecomeWritable(self)
        }
    }

    public func shutdownOutput() {
        loop.assertInLoop()
        guard fd >= 0, !outputShutdownRequested else { return }
        outputShutdownRequested = true
        if queue.isEmpty && corks == 0 { shutDownNow() }
    }

    private func shutDownNow() {
        outputShutDown = true
        do {
            try Sys.shutdown(fd, how: Int32(SHUT_WR))
        } catch {
            failSoon(error)
        }
    }

    // MARK: reading

    public func pauseReading() {
        loop.assertInLoop()
        readingPaused = true
        updateInterest()
    }

    public func resumeReading() {
        loop.assertInLoop()
        readingPaused = false
        updateInterest()
    }

    public var isReadingPaused: Bool { readingPaused }

    private func readAvailable() {
        // A few reads per wake-up, then back to the loop so that one fast peer cannot starve the others.
        for _ in 0..<4 {
            guard fd >= 0, !readingPaused, !inputEnded else { return }
            let result: IOResult<Int>
            do {
                result = try Sys.read(fd, readBuffer)
            } catch {
                fail(error)
                return
            }
            switch result {
            case .wouldBlock:
                return
            case .processed(0):
                inputEnded = true
                updateInterest()
                delegate?.stream(self, didEnd: .eof)
                return
            case .processed(let count):
                let filled = count == readBuffer.count
                delivering = true
                delegate?.stream(self, didRead: UnsafeRawBufferPointer(rebasing: readBuffer[..<count]))
                delivering = false
                fitReadBuffer()
                if !filled { return }
            }
        }
    }

    // MARK: events

    public func handleIO(_ readiness: Readiness) {
        if readiness.contains(.write) || (readiness.contains(.error) && !queue.isEmpty) { flush() }
        guard fd >= 0 else { return }
        if readiness.contains(.read) || readiness.contains(.error) {
            if !readingPaused && !inputEnded {
                readAvailable()
            } else if readiness.contains(.error) && !readiness.contains(.read) {
                // Nothing to read and not reading: only a pending socket error can be behind this event.
                reportSocketError()
            }
        }
    }

    private func reportSocketError() {
        let code = (try? Sys.socketError(fd)) ?? 0
        if code != 0 {
            fail(.syscall("socket", errno: code))
        } else {
            // EPOLLHUP without an error while paused: stop listening for it until reading resumes.
            updateInterest(forceQuiet: true)
        }
    }

    /// Keeps epoll's interest in step with the state. A socket wanting nothing after its input ended (or a hang-up
    /// while paused) leaves epoll entirely: EPOLLHUP is reported whatever the interest and would spin the loop.
    private func updateInterest(forceQuiet: Bool = false) {
        guard fd >= 0 else { return }
        var interest: Interest = []
        if !readingPaused && !inputEnded && !forceQuiet { interest.insert(.read) }
        if !queue.isEmpty { interest.insert(.write) }
        do {
            if interest.isEmpty && (inputEnded || forceQuiet) {
                if registered { loop.deregister(fd) }
                registered = false
            } else if !registered {
                try loop.register(fd, interest: interest, handler: self)
                registered = true
            } else {
                try loop.setInterest(interest, for: fd)
            }
        } catch {
            failSoon(error)
        }
    }

    // MARK: failure and closing

    /// Reports a failure that happened inside a call from the owner (write, shutdown) on the next loop turn, so the
    /// owner never hears about it re-entrantly in the middle of its own call.
    private func failSoon(_ error: ReactorError) {
        guard pendingFailure == nil, fd >= 0 else { return }
        queue.removeAll()
        pendingFailure = loop.scheduleTimer(afterMilliseconds: 0) { [weak self] in
            guard let self else { return }
            self.pendingFailure = nil
            self.fail(error)
        }
    }

    private func fail(_ error: ReactorError) {
        guard fd >= 0 else { return }
        let delegate = delegate
        close()
        delegate?.stream(self, didEnd: .failed(StreamError(error, peer: peer.description)))
    }

    /// Closes with RST instead of FIN (SO_LINGER 0): how a crashed or hostile peer looks. For fault tests and for
    /// giving up on a peer that will not stop sending.
    public func reset() {
        guard fd >= 0 else { return }
        try? Sys.setAbortiveClose(fd)
        close()
    }

    public func close() {
        guard fd >= 0 else { return }
        if let pendingFailure { loop.cancelTimer(pendingFailure) }
        pendingFailure = nil
        if registered { loop.deregister(fd) }
        registered = false
        Sys.close(fd)
        fd = -1
        queue.removeAll()
        delegate = nil
    }
}
