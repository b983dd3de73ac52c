@_spi(Internals) import Reactor
@_spi(Internals) import TLS

/// The operation holding a control channel (the login, an upload, a listing, one command): it hears the channel die.
protocol FTPControlChannelUser: AnyObject {
    func controlChannel(didFail error: FTPError)
}

/// An FTP control connection in the manner of curl's pingpong layer: it sends commands and parses the replies, times
/// each reply out, treats an unasked 421 as the server leaving, serves one operation at a time, and records every line
/// to the protocol trace. It knows no conversation: the login, the upload and the listing drive it. The TCP and TLS
/// streams underneath are named here and nowhere else on the control side.
final class FTPControlChannel: ByteStreamDelegate {
    let loop: EventLoop
    let host: String
    /// This connection's number in the protocol trace.
    let connectionNumber: Int
    private let replyTimeoutMS: Int
    private let trace: ProtocolTrace?

    private var stream: (any ByteStream)?
    private var parser = FTPReplyParser()
    private var replyHandler: ((FTPReply) -> Void)?
    private var replyTimer: TimerID?
    private var pendingCommand = ""
    /// Final replies the handler still waits for: 1, or 2 after an ABOR sent during a transfer (the STOR's own
    /// final reply, then the ABOR's).
    private var finalRepliesAwaited = 1
    /// The operation in flight, held until it ends or the channel dies.
    private var user: (any FTPControlChannelUser)?
    /// Why the channel is gone; nil while it lives (or before it connected).
    private(set) var failure: FTPError?

    init(loop: EventLoop, host: String, replyTimeoutMS: Int, trace: ProtocolTrace?) {
        self.loop = loop
        self.host = host
        self.replyTimeoutMS = replyTimeoutMS
        self.trace = trace
        connectionNumber = ProtocolTrace.nextConnectionNumber()
    }

    /// Open, alive, and free for an operation.
    var isIdle: Bool { stream != nil && failure == nil && user == nil }

    /// The TLS version, nil for plain FTP (or before AUTH TLS). Kept after the connection closed.
    private(set) var tlsVersion: String?

    /// The server's address, where data connections go unless the passive reply is trusted.
    var peer: SocketAddress? { stream?.peerAddress }

    // MARK: the operation in flight

    func begin(_ user: any FTPControlChannelUser) {
        precondition(self.user == nil, "one operation at a time on an FTP control connection")
        self.user = user
    }

    func end(_ user: any FTPControlChannelUser) {
        if self.user === user { self.user = nil }
    }

    // MARK: connecting

    /// Connects TCP; `then` runs once connected. A failure fails the channel (the user hears it).
    func connect(port: Int, connectTimeoutMS: Int, then: @escaping () -> Void) {
        let options = TCPConnector.Options(connectTimeoutMS: connectTimeoutMS)
        TCPConnector(loop: loop, options: options).connect(host: host, port: port) { result in
            switch result {
            case .failure(let error):
                self.fail(.connect(host: self.host, error))
            case .success(let tcp):
                guard self.failure == nil else { return tcp.close() }
                self.adopt(tcp)
                then()
            }
        }
    }

    /// Stacks TLS on the TCP connection (implicit FTPS at once, explicit after 234); `then` runs once established.
    /// The handshake owns the connection meanwhile (and closes it if it fails); the TLS stream then owns it.
    func startTLS(context: TLSContext?, handshakeTimeoutMS: Int, then: @escaping () -> Void) {
        guard let plain = stream else { return }
        guard let context else { return fail(.invalidArgument("TLS asked for without a context")) }
        stream = nil
        TLSStream.connect(over: plain, context: context, serverName: host, handshakeTimeoutMS: handshakeTimeoutMS) {
            result in
            switch result {
            case .failure(let error):
                self.fail(.tls(host: self.host, error))
            case .success(let tls):
                // Closed or failed while the handshake ran: nobody wants the stream any more.
                guard self.failure == nil else { return tls.close() }
                self.tlsVersion = tls.tls?.version
                self.adopt(tls)
                then()
            }
        }
    }

    private func adopt(_ stream: any ByteStream) {
        self.stream = stream
        stream.delegate = self
    }

    /// TLS sessions the server sent on this connection and nobody took yet (TLS 1.3 tickets).
    func takeReceivedSessions() -> [TLSSession] {
        stream?.takeReceivedTLSSessions() ?? []
    }

    /// The control connection's own session, for a data connection when no ticket is at hand (TLS 1.2).
    var resumableSession: TLSSession? { stream?.resumableTLSSession }

    // MARK: commands and replies

    /// Sends `command`; `handler` hears the replies to it (a 1xx, then the final one; see `deliver`).
    func send(_ command: FTPCommand, then handler: @escaping (FTPReply) -> Void) {
        guard let stream else { return }
        record(.sent, command.description)  // the description masks PASS
        stream.write(command.wire)
        awaitReply(command.description, handler)
    }

    /// Sends ABOR while a transfer's final reply is still awaited: `handler` (the transfer's) hears both final
    /// replies, the transfer's and then the ABOR's (RFC 959 §4.1.3), under one reply timeout each.
    func sendAbort(then handler: @escaping (FTPReply) -> Void) {
        let awaited = replyHandler == nil ? 1 : 2
        send(FTPCommand(constant: "ABOR"), then: handler)
        finalRepliesAwaited = awaited
    }

    /// Waits for the next reply (the banner); the reply timeout runs meanwhile.
    func awaitReply(_ command: String, _ handler: @escaping (FTPReply) -> Void) {
        pendingCommand = command
        replyHandler = handler
        finalRepliesAwaited = 1
        if let replyTimer { loop.cancelTimer(replyTimer) }
        let timeout = replyTimeoutMS
        replyTimer = loop.scheduleTimer(afterMilliseconds: timeout) { [weak self] in
            guard let self else { return }
            self.replyTimer = nil
            self.fail(.timeout(host: self.host, phase: self.pendingCommand, milliseconds: timeout))
        }
    }

    /// Restarts the reply timeout for the reply still awaited (after a transfer's data is all sent, say).
    func rearmReplyTimeout() {
        guard let handler = replyHandler else { return }
        let awaited = finalRepliesAwaited
        awaitReply(pendingCommand, handler)
        finalRepliesAwaited = awaited
    }

    /// One command outside an upload or a listing (DELE, RNFR, NOOP …): `handler` hears the final reply, or nil when
    /// the channel is busy or dead, or dies first (a lost connection, a reply timeout) — it always hears something, so
    /// a caller waiting on it never hangs.
    func exchange(_ command: FTPCommand, then handler: @escaping (FTPReply?) -> Void) {
        guard isIdle else {
            loop.scheduleTimer(afterMilliseconds: 0) { handler(nil) }
            return
        }
        let exchange = FTPSingleExchange(channel: self, handler: handler)
        begin(exchange)
        send(command) { [weak exchange] reply in
            guard !reply.isPreliminary else { return }
            exchange?.finish(reply)
        }
    }

    func stream(_ stream: any ByteStream, didRead bytes: UnsafeRawBufferPointer) {
        var replies: [FTPReply] = []
        do {
            try parser.feed(bytes) { replies.append($0) }
        } catch {
            return fail(.protocolError(host: host, error))
        }
        for reply in replies {
            if trace != nil {
                for line in Self.lines(of: reply) { record(.received, line) }
            }
            deliver(reply)
        }
    }

    private func deliver(_ reply: FTPReply) {
        guard let handler = replyHandler else {
            // Unasked: 421 means the server is going away; anything else is ignored.
            if reply.code == FTPCode.serviceNotAvailable {
                fail(.reply(command: "(idle)", code: reply.code, text: reply.message))
            }
            return
        }
        if let replyTimer { loop.cancelTimer(replyTimer) }
        replyTimer = nil
        // After a preliminary reply (1xx) the same handler waits for the final one, with no timeout meanwhile: a
        // transfer's final reply comes when the transfer ends (the upload re-arms the timeout then).
        if !reply.isPreliminary {
            finalRepliesAwaited -= 1
            if finalRepliesAwaited > 0 {
                rearmReplyTimeout()
            } else {
                replyHandler = nil
            }
        }
        handler(reply)
    }

    func streamDidBecomeWritable(_ stream: any ByteStream) {}

    func stream(_ stream: any ByteStream, didEnd end: StreamEnd) {
        let during = pendingCommand.isEmpty ? "an idle moment" : pendingCommand
        fail(.connectionClosed(host: host, during: during))
    }

    // MARK: the trace

    private func record(_ direction: ProtocolTrace.Direction, _ line: String) {
        trace?.record(connection: connectionNumber, direction, line)
    }

    /// A reply's lines as they came (the parser keeps the code only on the first and last line of a multi-line one).
    private static func lines(of reply: FTPReply) -> [String] {
        guard reply.lines.count > 1 else { return ["\(reply.code) \(reply.message)"] }
        return ["\(reply.code)-\(reply.lines[0])"] + reply.lines.dropFirst().dropLast() + [
            "\(reply.code) \(reply.message)"
        ]
    }

    // MARK: ending

    /// The channel is gone or useless: the operation in flight hears why, once.
    func fail(_ error: FTPError) {
        guard failure == nil else { return }
        failure = error
        closeStream()
        replyHandler = nil
        let user = self.user
        self.user = nil
        user?.controlChannel(didFail: error)
    }

    /// Says goodbye politely (QUIT, then a graceful close) when idle; otherwise drops the connection.
    func quit(_ completion: (() -> Void)?) {
        guard isIdle, let stream else {
            close()
            completion?()
            return
        }
        let quit = FTPCommand(constant: "QUIT")
        failure = .connectionClosed(host: host, during: quit.description)
        record(.sent, quit.description)
        stream.write(quit.wire)
        self.stream = nil
        cancelReplyTimer()
        stream.closeGracefully(timeoutMS: 2_000) { _ in completion?() }
    }

    /// Drops the connection at once; an operation in flight hears that it ended.
    func close() {
        guard failure == nil else { return closeStream() }
        fail(.connectionClosed(host: host, during: "close"))
    }

    private func closeStream() {
        cancelReplyTimer()
        stream?.close()
        stream = nil
    }

    private func cancelReplyTimer() {
        if let replyTimer { loop.cancelTimer(replyTimer) }
        replyTimer = nil
    }
}

/// The channel's operation while one `exchange` is in flight: hears the channel die.
private final class FTPSingleExchange: FTPControlChannelUser {
    private unowned let channel: FTPControlChannel
    private var handler: ((FTPReply?) -> Void)?

    init(channel: FTPControlChannel, handler: @escaping (FTPReply?) -> Void) {
        self.channel = channel
        self.handler = handler
    }

    func finish(_ reply: FTPReply?) {
        guard let handler else { return }
        self.handler = nil
        channel.end(self)
        handler(reply)
    }

    func controlChannel(didFail error: FTPError) { finish(nil) }
}
