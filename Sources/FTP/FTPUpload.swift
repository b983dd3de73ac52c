@_spi(Internals) import Reactor

/// Hears how an upload goes, on the loop thread.
public protocol FTPUploadDelegate: AnyObject {
    /// The server accepted the file and the data connection is ready: write the bytes now.
    func uploadCanBegin(_ upload: FTPUpload)
    /// The data connection drained below its low watermark: write more.
    func uploadDidBecomeWritable(_ upload: FTPUpload)
    /// Published under the final name, or why not (and then nothing is left under the final name).
    func upload(_ upload: FTPUpload, didFinish result: Result<FTPPublishResult, FTPError>)
}

/// One publish in progress: a thin driver that feeds an `FTPPublishMachine` the control channel's replies and its
/// data channel's events, and does what the machine says.
public final class FTPUpload: FTPControlChannelUser, FTPMachineDriver {
    public let plan: FTPPublishPlan
    /// Whether the data connection's TLS resumed a session of this client (nil before it exists, or plain).
    @_spi(Internals) public private(set) var dataSessionResumed: Bool?

    /// Where the caller's writing stands.
    private enum Writing { case notYet, open, closing, over }

    let control: FTPControlChannel
    let connector: FTPDataConnector
    private let replyTimeoutMS: Int
    private let dataIdleTimeoutMS: Int
    var machine: FTPPublishMachine
    private var delegate: (any FTPUploadDelegate)?
    var data: FTPDataChannel?
    private var writing = Writing.notYet
    public private(set) var bytesSent: UInt64 = 0

    /// The server refused to resume (REST or the STOR after it): the file is being stored from zero, and the
    /// caller must write it from its first byte.
    @_spi(Internals) public private(set) var restartRefused: FTPError?
    /// The offset the upload resumes at: the caller's first byte is the file's byte at this offset (0 after a
    /// refusal).
    @_spi(Internals) public var startsAt: UInt64 { machine.restartAt ?? 0 }

    init(
        plan: FTPPublishPlan, restartAt: UInt64? = nil, control: FTPControlChannel, connector: FTPDataConnector,
        configuration: FTPSession.Configuration, delegate: any FTPUploadDelegate
    ) {
        self.plan = plan
        self.control = control
        self.connector = connector
        self.delegate = delegate
        replyTimeoutMS = configuration.replyTimeoutMS
        dataIdleTimeoutMS = configuration.dataIdleTimeoutMS
        var machinePlan = plan
        machinePlan.tryEPSV = plan.tryEPSV && !connector.epsvRefused
        machine = FTPPublishMachine(plan: machinePlan, host: control.host, restartAt: restartAt)
    }

    // MARK: the caller's side

    /// Queues bytes on the data connection. Respect `isWritable` to keep memory bounded.
    public func write(_ bytes: UnsafeRawBufferPointer) {
        control.loop.assertInLoop()
        guard writing == .open, let data else { return }
        data.write(bytes)
        bytesSent += UInt64(bytes.count)
    }

    /// The temporary file may still be on the server (see `FTPPublishMachine.temporaryMayRemain`).
    @_spi(Internals) public var temporaryMayRemain: Bool { machine.temporaryMayRemain }

    public var isWritable: Bool { writing == .open && (data?.isWritable ?? false) }

    /// All bytes are written: close the data connection cleanly (close_notify), then wait for the server's verdict.
    public func finishWriting() {
        control.loop.assertInLoop()
        guard writing == .open, let data else { return }
        writing = .closing
        let sent = bytesSent
        data.finish(timeoutMS: replyTimeoutMS) { [weak self] end in
            guard let self else { return }
            self.data = nil
            // proftpd now and then resets the data connection once it has read our close_notify. Every byte was
            // handed over by then: when the size is checked after the 226, that check decides whether they all
            // arrived (a reset that lost some shows as a short file); without it, the reset fails the upload.
            if case .failed(let reason, _)? = end, !self.plan.checkSize {
                return self.step(.dataFailed("closing the data connection: \(reason)"))
            }
            self.control.rearmReplyTimeout()
            self.step(.dataFinished(bytes: sent))
        }
    }

    /// The source failed: stop, delete the temporary file, and report `reason`. `sendABOR`: during the transfer, tell
    /// the server with ABOR too (a cancel); otherwise closing the data connection says it.
    public func abort(_ reason: String, sendABOR: Bool = false) {
        control.loop.assertInLoop()
        if sendABOR {
            step(.cancelled(reason))
            // The machine sends ABOR only while the transfer runs; otherwise (before it, or after its final reply)
            // the data connection is closed here, as for any abort, and the reply still awaited gets its timeout.
            if data != nil { closeDataAwaitingReply() }
        } else {
            closeDataAwaitingReply()
            step(.aborted(reason))
        }
    }

    /// The source failed part-way and a later attempt will resume this file (REST): stop without deleting the
    /// temporary file, and report `reason`. The data connection ends with close_notify, so that the bytes handed over
    /// so far reach the file; the server's SIZE then says how many did.
    @_spi(Internals) public func suspend(_ reason: String) {
        control.loop.assertInLoop()
        if data != nil {
            closeDataCleanly()
            control.rearmReplyTimeout()
        }
        step(.suspended(reason))
    }

    // MARK: the machine

    func perform(_ action: FTPPublishMachine.Action) {
        switch action {
        case .send(let command): send(command)
        case .openData(let port, let announced): openData(port: port, announcedHost: announced, fullRecords: true)
        case .epsvRefused: connector.epsvRefused = true
        case .beginTransfer:
            writing = .open
            data?.watchForStall(idleMS: dataIdleTimeoutMS)
            delegate?.uploadCanBegin(self)
        case .abortData:
            closeData()
        case .restartRefused(let error):
            restartRefused = error
        case .abortTransfer:
            closeDataCleanly()
            control.sendAbort { [weak self] reply in self?.step(.reply(reply)) }
        case .published(let result):
            finish(.success(result))
        case .failed(let error):
            closeData()
            finish(.failure(error))
        }
    }

    // MARK: the data channel

    func dataChannelDidConnect(_ channel: FTPDataChannel) {
        guard !machine.isDone else { return channel.close() }
        // STOR goes now; the TLS handshake runs alongside (vsftpd answers it only after STOR).
        step(.dataConnected)
    }

    func dataChannelIsReady(_ channel: FTPDataChannel) {
        guard !machine.isDone else { return channel.close() }
        dataSessionResumed = channel.sessionResumed
        step(.dataReady)
    }

    func dataChannel(_ channel: FTPDataChannel, didRead bytes: UnsafeRawBufferPointer) {}

    func dataChannelDidBecomeWritable(_ channel: FTPDataChannel) {
        if writing == .open { delegate?.uploadDidBecomeWritable(self) }
    }

    func dataChannel(_ channel: FTPDataChannel, didEnd end: FTPDataEnd) {
        guard data === channel else { return }
        closeDataAwaitingReply()
        switch end {
        case .eof: step(.dataFailed("the server closed the data connection before the upload ended"))
        case .failed(let reason, _): step(.dataFailed(reason))
        }
    }

    private func closeData() {
        data?.close()
        data = nil
    }

    /// Ends the data connection of a cancelled transfer with close_notify, not a bare close: a server that sees a bare
    /// close forgets the TLS session, and its tickets are then the only ones left to this client — proftpd refuses
    /// the next data connection that resumes none of the control connection's sessions (425), vsftpd drops the
    /// session. The bytes sent so far land in the temporary file, which the cancel deletes.
    private func closeDataCleanly() {
        guard let data else { return }
        self.data = nil
        data.finish(timeoutMS: 1_000) { _ in }
    }

    /// Closes the data connection of a transfer cut short: the final reply to STOR (426, 451 …) is still to come,
    /// and after the 1xx no timeout runs; a server that never sends it must not hold the upload for ever.
    private func closeDataAwaitingReply() {
        guard data != nil else { return }
        closeData()
        control.rearmReplyTimeout()
    }

    // MARK: ending

    func controlChannel(didFail error: FTPError) {
        closeData()
        finish(.failure(error))
    }

    func finish(_ result: Result<FTPPublishResult, FTPError>) {
        guard let delegate else { return }
        self.delegate = nil
        writing = .over
        control.end(self)
        delegate.upload(self, didFinish: result)
    }
}
