@_spi(Internals) import Reactor
@_spi(Internals) import TLS

/// How a data connection ended, as its driver needs to know it.
enum FTPDataEnd {
    /// The server closed it cleanly (FIN; under TLS, close_notify).
    case eof
    /// It broke, or could not be opened, or stalled: why, in words. `withoutCloseNotify`: the server closed its TLS
    /// without close_notify, which a listing tolerates since the 226 that must follow vouches for the data (a reset
    /// or any other failure it does not).
    case failed(String, withoutCloseNotify: Bool)
}

/// Hears a data channel's events, on the loop thread.
protocol FTPDataChannelDelegate: AnyObject {
    /// TCP is up; under PROT P the TLS handshake runs now. The transfer command may go (vsftpd answers the handshake
    /// only after STOR).
    func dataChannelDidConnect(_ channel: FTPDataChannel)
    /// Ready for bytes: the TLS handshake finished, or there is none.
    func dataChannelIsReady(_ channel: FTPDataChannel)
    func dataChannel(_ channel: FTPDataChannel, didRead bytes: UnsafeRawBufferPointer)
    func dataChannelDidBecomeWritable(_ channel: FTPDataChannel)
    /// The channel ended before its driver closed it (the driver closes it now). After `close()` or `finish`, the
    /// delegate hears nothing more.
    func dataChannel(_ channel: FTPDataChannel, didEnd end: FTPDataEnd)
}

/// Opens a session's data connections, and keeps what they need across connections: where to connect, the TLS
/// context, the sessions to resume, and whether the server refused EPSV.
final class FTPDataConnector {
    let loop: EventLoop
    let host: String
    let connectTimeoutMS: Int
    /// Connect to the address in the PASV reply instead of the control connection's peer.
    let trustPassiveAddress: Bool
    /// Nil for plain FTP: no PROT P.
    let context: TLSContext?
    private let control: FTPControlChannel
    /// The server answered EPSV with a 5xx once: it will again, so data connections start with PASV.
    var epsvRefused = false
    /// Sessions this client received and has not spent: tickets from the control connection's login and from each
    /// data connection. vsftpd only asks that a data connection resume *a* session of this client, and under TLS 1.3
    /// each ticket resumes once: every data connection spends a fresh one (a TLS 1.2 session is reused as it is).
    private var unspentSessions: [TLSSession] = []
    /// The server sent this client a session ticket at some point: it resumes sessions.
    private var receivedTickets = false

    init(
        control: FTPControlChannel, connectTimeoutMS: Int, trustPassiveAddress: Bool, context: TLSContext?
    ) {
        self.control = control
        loop = control.loop
        host = control.host
        self.connectTimeoutMS = connectTimeoutMS
        self.trustPassiveAddress = trustPassiveAddress
        self.context = context
    }

    /// A channel that `open` connects; `delegate` (held weakly) hears it.
    func channel(fullRecords: Bool, delegate: any FTPDataChannelDelegate) -> FTPDataChannel {
        FTPDataChannel(connector: self, fullRecords: fullRecords, delegate: delegate)
    }

    /// Where data connections go: the control connection's peer (the PASV host is not trusted unless configured).
    func address(port: Int, announcedHost: String?) -> SocketAddress? {
        if trustPassiveAddress, let announcedHost, let address = SocketAddress(numericHost: announcedHost, port: port) {
            return address
        }
        return control.peer?.withPort(port)
    }

    /// Keeps the sessions a data connection received, for later data connections.
    func harvest(_ sessions: [TLSSession]) {
        let resumable = sessions.filter(\.isResumable)
        if !resumable.isEmpty { receivedTickets = true }
        unspentSessions += resumable
    }

    /// No session of this client is left for the next data connection to resume, although the server does resume
    /// them. proftpd under TLS 1.3 sends two tickets at login, none on data connections, and takes each once: the
    /// third data connection could resume nothing, and proftpd (like any server that requires reuse) refuses that
    /// with 425. A new login gets fresh tickets. A server that never sent one (pure-ftpd) does not require reuse.
    func resumptionExhausted() -> Bool { resumableConnections() == 0 }

    /// How many more data connections can resume a session of this client: nil when there is no limit (plain FTP, a
    /// server that sent no ticket, a session that may be reused as it is).
    func resumableConnections() -> Int? {
        guard context != nil else { return nil }
        harvest(control.takeReceivedSessions())
        guard receivedTickets, control.resumableSession == nil, unspentSessions.allSatisfy(\.isSingleUse) else {
            return nil
        }
        return unspentSessions.count
    }

    /// The session the next data connection offers.
    func sessionForData() -> TLSSession? {
        harvest(control.takeReceivedSessions())
        guard let newest = unspentSessions.last else { return control.resumableSession }
        if newest.isSingleUse { unspentSessions.removeLast() }
        return newest
    }
}

/// One data connection: TCP to the passive port, then under PROT P TLS resuming a session of this client and checking
/// the control host's name; a stall watch for uploads and a silence watch for listings; a clean end (close_notify)
/// whose new tickets go back to the connector. The TCP and TLS streams are named here and nowhere else on the data
/// side.
final class FTPDataChannel: ByteStreamDelegate {
    private weak var delegate: (any FTPDataChannelDelegate)?
    private let connector: FTPDataConnector
    private let fullRecords: Bool
    private var stream: (any ByteStream)?
    private var closed = false
    private var watchTimer: TimerID?
    /// Bytes handed to `write`.
    private(set) var bytesWritten: UInt64 = 0

    fileprivate init(connector: FTPDataConnector, fullRecords: Bool, delegate: any FTPDataChannelDelegate) {
        self.connector = connector
        self.fullRecords = fullRecords
        self.delegate = delegate
    }

    private var loop: EventLoop { connector.loop }

    /// Whether the TLS handshake resumed a session (nil: not yet, or plain FTP).
    private(set) var sessionResumed: Bool?

    var isWritable: Bool { stream?.isWritable ?? false }

    // MARK: opening

    /// Connects to the passive port (see `FTPDataConnector.address`), then stacks TLS when the session has a context.
    func open(port: Int, announcedHost: String?) {
        guard let address = connector.address(port: port, announcedHost: announcedHost) else {
            return fail("no address for the data connection")
        }
        let options = TCPConnector.Options(connectTimeoutMS: connector.connectTimeoutMS)
        TCPConnector(loop: loop, options: options).connect(to: [address], host: connector.host) { result in
            guard !self.closed else {
                if case .success(let tcp) = result { tcp.close() }
                return
            }
            switch result {
            case .failure(let error): self.fail("\(error)")
            case .success(let tcp): self.connected(tcp)
            }
        }
    }

    private func connected(_ tcp: TCPConnection) {
        stream = tcp
        tcp.delegate = self
        delegate?.dataChannelDidConnect(self)
        guard !closed else { return }
        guard let context = connector.context else { return delegate?.dataChannelIsReady(self) ?? () }
        TLSStream.connect(
            over: tcp, context: context, serverName: connector.host, session: connector.sessionForData(),
            handshakeTimeoutMS: connector.connectTimeoutMS
        ) { result in
            guard !self.closed else {
                if case .success(let tls) = result { tls.close() }
                return
            }
            switch result {
            case .failure(let error):
                self.stream = nil
                self.fail("TLS: \(error)")
            case .success(let tls):
                self.sessionResumed = tls.tls?.sessionResumed
                self.stream = tls
                tls.delegate = self
                tls.fullRecords = self.fullRecords
                // An upload's ciphertext leaves in large sends; a listing is small.
                if self.fullRecords { tls.role = .sending }
                self.delegate?.dataChannelIsReady(self)
            }
        }
    }

    // MARK: bytes

    /// Queues bytes. Respect `isWritable` to keep memory bounded.
    func write(_ bytes: UnsafeRawBufferPointer) {
        guard let stream else { return }
        stream.write(bytes)
        bytesWritten += UInt64(bytes.count)
    }

    /// An upload's data connection that takes no byte for `idleMS` is stuck: the channel fails (and closes).
    func watchForStall(idleMS: Int) {
        var lastPending = 0
        var lastWritten: UInt64 = 0
        stopWatching()
        watchTimer = loop.scheduleTimer(afterMilliseconds: idleMS, repeating: idleMS) { [weak self] in
            guard let self, let stream = self.stream else { return }
            let pending = stream.pendingWriteBytes
            if pending > 0 && pending >= lastPending && self.bytesWritten == lastWritten {
                return self.fail("no byte accepted for \(idleMS) ms")
            }
            lastPending = pending
            lastWritten = self.bytesWritten
        }
    }

    /// A listing's data must keep coming: the channel fails (and closes) after `idleMS` without a byte. (The reply
    /// timeout does not run between NLST's 150 and its 226: a stalled server would otherwise hold the run forever.)
    func watchForSilence(idleMS: Int) {
        stopWatching()
        watchTimer = loop.scheduleTimer(afterMilliseconds: idleMS) { [weak self] in
            guard let self else { return }
            self.watchTimer = nil
            self.fail("no listing data for \(idleMS) ms")
        }
    }

    private func stopWatching() {
        if let watchTimer { loop.cancelTimer(watchTimer) }
        watchTimer = nil
    }

    func stream(_ stream: any ByteStream, didRead bytes: UnsafeRawBufferPointer) {
        delegate?.dataChannel(self, didRead: bytes)
    }

    func streamDidBecomeWritable(_ stream: any ByteStream) {
        delegate?.dataChannelDidBecomeWritable(self)
    }

    func stream(_ stream: any ByteStream, didEnd end: StreamEnd) {
        guard stream === self.stream else { return }
        stopWatching()
        delegate?.dataChannel(self, didEnd: Self.convert(end))
    }

    private static func convert(_ end: StreamEnd) -> FTPDataEnd {
        switch end {
        case .eof: return .eof
        case .failed(let error):
            return .failed("\(error)", withoutCloseNotify: error.tlsFailure?.kind == .closedWithoutCloseNotify)
        }
    }

    // MARK: ending

    /// All bytes are written: close cleanly (close_notify, then wait for the server's end, at most `timeoutMS`).
    /// `completion` hears how the server's side ended (nil: timed out). Tickets read meanwhile serve later data
    /// connections.
    func finish(timeoutMS: Int, completion: @escaping (FTPDataEnd?) -> Void) {
        guard let stream, !closed else {
            return completion(.failed("the data connection was already closed", withoutCloseNotify: false))
        }
        closed = true
        stopWatching()
        self.stream = nil
        stream.closeGracefully(timeoutMS: timeoutMS) { [connector] end in
            connector.harvest(stream.takeReceivedTLSSessions())
            completion(end.map(Self.convert))
        }
    }

    /// Closes a connection whose server already ended its side, our close_notify first (a server that sees a bare
    /// close forgets the TLS session, and its tickets stop working); the tickets it sent serve later connections.
    func closeAfterPeerEnded() {
        guard let stream, !closed else { return }
        connector.harvest(stream.takeReceivedTLSSessions())
        closed = true
        stopWatching()
        self.stream = nil
        stream.closeAfterPeerEnded()
    }

    /// Drops the connection at once; the delegate hears nothing more.
    func close() {
        closed = true
        stopWatching()
        stream?.close()
        stream = nil
    }

    /// Opening failed, or a watch fired: close, and tell the delegate.
    private func fail(_ reason: String) {
        guard !closed else { return }
        close()
        delegate?.dataChannel(self, didEnd: .failed(reason, withoutCloseNotify: false))
    }
}
