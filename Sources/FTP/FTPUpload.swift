import Reactor
import TLS

/// Hears how an upload goes, on the loop thread.
public protocol FTPUploadDelegate: AnyObject {
    /// The server accepted the file and the data connection is ready: write the bytes now.
    func uploadCanBegin(_ upload: FTPUpload)
    /// The data connection drained below its low watermark: write more.
    func uploadDidBecomeWritable(_ upload: FTPUpload)
    /// Published under the final name, or why not (and then nothing is left under the final name).
    func upload(_ upload: FTPUpload, didFinish result: Result<FTPPublishResult, FTPError>)
}

/// One publish in progress: drives an `FTPPublishMachine` over the session's control connection and its own data
/// connection, which it opens on the control connection's peer and protects with TLS resuming the control session.
public final class FTPUpload: ByteStreamDelegate, FTPOperation {
    public let plan: FTPPublishPlan
    public private(set) var bytesSent: UInt64 = 0
    /// Whether the data connection's TLS resumed the control connection's session (nil before it exists, or plain).
    public private(set) var dataSessionResumed: Bool?

    private let session: FTPSession
    private var machine: FTPPublishMachine
    private var delegate: (any FTPUploadDelegate)?
    private var data: (any ByteStream)?
    private var transferring = false
    private var finishing = false
    private var stallTimer: TimerID?
    private var lastPending = 0
    private var lastProgress: UInt64 = 0

    init(session: FTPSession, plan: FTPPublishPlan, delegate: any FTPUploadDelegate) {
        self.session = session
        self.plan = plan
        self.delegate = delegate
        machine = FTPPublishMachine(plan: plan, host: session.configuration.host)
    }

    private var loop: EventLoop { session.loop }
    private var host: String { session.configuration.host }

    func start() {
        perform(machine.start())
    }

    // MARK: the caller's side

    /// Queues bytes on the data connection. Respect `isWritable` to keep memory bounded.
    public func write(_ bytes: UnsafeRawBufferPointer) {
        guard transferring, !finishing, let data else { return }
        data.write(bytes)
        bytesSent += UInt64(bytes.count)
    }

    /// The temporary file may still be on the server (see `FTPPublishMachine.temporaryMayRemain`).
    public var temporaryMayRemain: Bool { machine.temporaryMayRemain }

    public var isWritable: Bool { transferring && !finishing && (data?.isWritable ?? false) }

    /// All bytes are written: close the data connection cleanly (close_notify), then wait for the server's verdict.
    public func finishWriting() {
        guard transferring, !finishing, let data else { return }
        finishing = true
        let sent = bytesSent
        data.closeGracefully(timeoutMS: session.configuration.replyTimeoutMS) { [weak self] end in
            guard let self else { return }
            // Tickets this connection received (read while closing) serve the next data connections.
            self.session.harvestSessions(from: data)
            self.data = nil
            self.stopStallTimer()
            // proftpd now and then resets the data connection once it has read our close_notify. Every byte was
            // handed over by then: when the size is checked after the 226, that check decides whether they all
            // arrived (a reset that lost some shows as a short file); without it, the reset fails the upload.
            if case .failed(let error)? = end, !self.plan.checkSize {
                return self.step(.dataFailed("closing the data connection: \(error)"))
            }
            self.session.armReplyTimeout()
            self.step(.dataFinished(bytes: sent))
        }
    }

    /// The source failed: stop, delete the temporary file, and report `reason`.
    public func abort(_ reason: String) {
        closeData()
        step(.aborted(reason))
    }

    // MARK: the machine

    private func step(_ event: FTPPublishMachine.Event) {
        perform(machine.handle(event))
    }

    private func perform(_ actions: [FTPPublishMachine.Action]) {
        for action in actions {
            switch action {
            case .send(let command):
                session.send(command) { [weak self] reply in self?.step(.reply(reply)) }
            case .openData(let port, let announced):
                openData(port: port, announcedHost: announced)
            case .epsvRefused:
                break
            case .beginTransfer:
                transferring = true
                startStallTimer()
                delegate?.uploadCanBegin(self)
            case .abortData:
                closeData()
            case .published(let result):
                finish(.success(result))
            case .failed(let error):
                closeData()
                finish(.failure(error))
            }
        }
    }

    private func openData(port: Int, announcedHost: String?) {
        session.openDataChannel(
            port: port, announcedHost: announcedHost,
            connected: { [weak self] tcp in
                guard let self, !self.machine.isDone else { return false }
                self.data = tcp
                tcp.delegate = self
                // STOR goes now; the TLS handshake runs alongside (vsftpd answers it only after STOR).
                self.step(.dataConnected)
                return true
            },
            ready: { [weak self] result in
                guard let self else { return }
                switch result {
                case .failure(let reason):
                    self.data = nil
                    self.step(.dataFailed(reason.description))
                case .success(let stream):
                    guard !self.machine.isDone else { return stream.close() }
                    self.data = stream
                    stream.delegate = self
                    (stream as? TLSStream)?.fullRecords = true
                    self.dataSessionResumed = (stream as? TLSStream)?.isResumed
                    self.step(.dataReady)
                }
            })
    }

    // MARK: data connection events

    public func stream(_ stream: any ByteStream, didRead bytes: UnsafeRawBufferPointer) {}

    public func streamDidBecomeWritable(_ stream: any ByteStream) {
        if transferring && !finishing { delegate?.uploadDidBecomeWritable(self) }
    }

    public func stream(_ stream: any ByteStream, didEnd end: StreamEnd) {
        guard data === stream else { return }
        closeData()
        switch end {
        case .eof: step(.dataFailed("the server closed the data connection before the upload ended"))
        case .failed(let error): step(.dataFailed("\(error)"))
        }
    }

    /// A data connection that takes no byte for the idle time is stuck.
    private func startStallTimer() {
        let idle = session.configuration.dataIdleTimeoutMS
        stallTimer = loop.scheduleTimer(afterMilliseconds: idle, repeating: idle) { [weak self] in
            guard let self, let data = self.data else { return }
            let pending = data.pendingWriteBytes
            if pending > 0 && pending >= self.lastPending && self.bytesSent == self.lastProgress {
                self.closeData()
                self.step(.dataFailed("no byte accepted for \(idle) ms"))
            }
            self.lastPending = pending
            self.lastProgress = self.bytesSent
        }
    }

    private func stopStallTimer() {
        if let stallTimer { loop.cancelTimer(stallTimer) }
        stallTimer = nil
    }

    private func closeData() {
        stopStallTimer()
        data?.close()
        data = nil
    }

    // MARK: ending

    func controlFailed(_ error: FTPError) {
        closeData()
        finish(.failure(error))
    }

    func finish(_ result: Result<FTPPublishResult, FTPError>) {
        guard let delegate else { return }
        self.delegate = nil
        transferring = false
        session.end(self)
        delegate.upload(self, didFinish: result)
    }
}
