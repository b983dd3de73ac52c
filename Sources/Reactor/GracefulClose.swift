extension ByteStream {
    /// Ends the stream the way that loses nothing at either end: send our end (`shutdownOutput`: FIN, or for TLS
    /// close_notify then FIN), keep reading and discarding until the peer ends its side or `timeoutMS` passes, then
    /// close. Closing with unread data would make the kernel send RST, and the peer could lose the tail of what we
    /// sent (PLATFORM.md). The delegate is replaced; `completion` gets how the peer's side ended (nil: timed out).
    public func closeGracefully(timeoutMS: Int = 2_000, completion: ((StreamEnd?) -> Void)? = nil) {
        GracefulCloser.start(self, timeoutMS: timeoutMS, completion: completion)
    }
}

extension ByteStream {
    /// Closes a stream whose peer has already ended its side: our end goes out first (for TLS, close_notify — a
    /// server that sees a bare close treats it as an error and forgets the TLS session, so its tickets stop working).
    public func closeAfterPeerEnded() {
        shutdownOutput()
        close()
    }
}

/// Drives one graceful close. It keeps itself alive through its timer's closure until the stream is closed.
private final class GracefulCloser: ByteStreamDelegate {
    private let stream: any ByteStream
    private var timer: TimerID?
    private var completion: ((StreamEnd?) -> Void)?

    private init(_ stream: any ByteStream, completion: ((StreamEnd?) -> Void)?) {
        self.stream = stream
        self.completion = completion
    }

    static func start(_ stream: any ByteStream, timeoutMS: Int, completion: ((StreamEnd?) -> Void)?) {
        let closer = GracefulCloser(stream, completion: completion)
        stream.delegate = closer
        closer.timer = stream.loop.scheduleTimer(afterMilliseconds: timeoutMS) { closer.finish(nil) }
        stream.shutdownOutput()
        stream.resumeReading()
    }

    func stream(_ stream: any ByteStream, didRead bytes: UnsafeRawBufferPointer) {}

    func streamDidBecomeWritable(_ stream: any ByteStream) {}

    func stream(_ stream: any ByteStream, didEnd end: StreamEnd) {
        finish(end)
    }

    private func finish(_ end: StreamEnd?) {
        guard let timer else { return }
        self.timer = nil
        stream.loop.cancelTimer(timer)  // drops the closure that kept this closer alive
        stream.close()
        let completion = completion
        self.completion = nil
        completion?(end)
    }
}
