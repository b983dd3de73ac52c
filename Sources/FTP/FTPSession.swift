import Reactor
import TLS

/// A logged-in FTP control connection on an event loop, able to publish many files one after another. Explicit FTPS
/// by default; the data connections resume the control connection's TLS session (vsftpd's `require_ssl_reuse`).
/// Something that uses the control connection for a while (an upload, a listing) and must hear if it dies.
protocol FTPOperation: AnyObject {
    func controlFailed(_ error: FTPError)
}

public final class FTPSession: ByteStreamDelegate {
    public struct Configuration: Sendable {
        public var host: String
        /// nil: 21, or 990 for implicit TLS.
        public var port: Int?
        public var user: String
        public var password: String
        public var security: FTPSecurity = .explicitTLS
        public var tls = TLSConfiguration()
        public var connectTimeoutMS = 15_000
        /// The longest wait for any reply.
        public var replyTimeoutMS = 30_000
        /// A data connection that accepts no byte for this long fails the upload.
        public var dataIdleTimeoutMS = 60_000
        /// Connect data channels to the address in the PASV reply instead of the control connection's peer.
        public var trustPassiveAddress = false

        public init(host: String, port: Int? = nil, user: String, password: String) {
            self.host = host
            self.port = port
            self.user = user
            self.password = password
        }

        public var effectivePort: Int { port ?? (security == .implicitTLS ? 990 : 21) }
    }

    public typealias ConnectCompletion = (Result<FTPSession, FTPError>) -> Void

    public let loop: EventLoop
    public let configuration: Configuration
    public private(set) var features = FTPFeatures()
    /// The control connection's TLS version, nil for plain FTP.
    public private(set) var tlsVersion: String?
    /// Things the operator should hear about this session (the library logs nothing itself; the pipeline logs these
    /// as warnings): plaintext FTP, insecure TLS.
    public var warnings: [String] {
        var list: [String] = []
        if configuration.security == .none {
            list.append("plain FTP to \(host): the password and the files travel unencrypted")
        }
        if configuration.security != .none && configuration.tls.verification == .insecureNoVerification {
            list.append("TLS to \(host) is not verified (--insecure): anyone in the path can read and change the data")
        }
        return list
    }

    private let context: TLSContext?
    private var control: (any ByteStream)?
    private var tcp: TCPConnection?
    private var parser = FTPReplyParser()
    private var login: FTPLoginMachine?
    private var loginCompletion: ConnectCompletion?
    private var replyHandler: ((FTPReply) -> Void)?
    private var replyTimer: TimerID?
    private var pendingCommand = ""
    /// The upload or listing in progress: one at a time on a control connection.
    private var operation: (any FTPOperation)?
    private var dead: FTPError?

    private init(loop: EventLoop, configuration: Configuration, context: TLSContext?) {
        self.loop = loop
        self.configuration = configuration
        self.context = context
    }

    /// Connects and logs in. `context` lets many sessions share one TLS context (CA loading costs milliseconds);
    /// nil makes one from `configuration.tls`.
    public static func connect(
        loop: EventLoop, configuration: Configuration, context: TLSContext? = nil,
        completion: @escaping ConnectCompletion
    ) {
        var tlsContext = context
        if configuration.security != .none && tlsContext == nil {
            do {
                tlsContext = try TLSContext(configuration.tls)
            } catch {
                loop.scheduleTimer(afterMilliseconds: 0) {
                    completion(.failure(.tls(host: configuration.host, error)))
                }
                return
            }
        }
        let session = FTPSession(loop: loop, configuration: configuration, context: tlsContext)
        session.start(completion)
    }

    public var isUsable: Bool { control != nil && dead == nil && operation == nil }
    var deadError: FTPError? { dead }

    func begin(_ operation: any FTPOperation) { self.operation = operation }

    func end(_ operation: any FTPOperation) {
        if self.operation === operation { self.operation = nil }
    }
    public var isTLS: Bool { tlsVersion != nil }
    var host: String { configuration.host }

    // MARK: login

    private func start(_ completion: @escaping ConnectCompletion) {
        loginCompletion = completion
        login = FTPLoginMachine(
            user: configuration.user, password: configuration.password, security: configuration.security)
        let options = TCPConnector.Options(connectTimeoutMS: configuration.connectTimeoutMS)
        TCPConnector(loop: loop, options: options).connect(host: host, port: configuration.effectivePort) { result in
            switch result {
            case .failure(let error):
                self.finishLogin(.failure(.connect(host: self.host, error)))
            case .success(let tcp):
                self.tcp = tcp
                if self.configuration.security == .implicitTLS {
                    self.startControlTLS(over: tcp) { self.awaitReply("(connect)") { self.loginStep(.reply($0)) } }
                } else {
                    self.adopt(tcp)
                    self.awaitReply("(connect)") { self.loginStep(.reply($0)) }
                }
            }
        }
    }

    private func loginStep(_ event: FTPLoginMachine.Event) {
        guard var machine = login else { return }
        let actions = machine.handle(event)
        login = machine
        for action in actions {
            switch action {
            case .send(let command):
                send(command) { self.loginStep(.reply($0)) }
            case .startTLS:
                guard let tcp else { return }
                control = nil
                startControlTLS(over: tcp) { self.loginStep(.tlsEstablished) }
            case .loggedIn(let features):
                self.features = features
                login = nil
                finishLogin(.success(self))
            case .failed(let summary):
                finishLogin(.failure(summary.error))
            }
        }
    }

    private func startControlTLS(over tcp: TCPConnection, then: @escaping () -> Void) {
        guard let context else { return finishLogin(.failure(.invalidArgument("TLS asked for without a context"))) }
        TLSStream.connect(
            over: tcp, context: context, serverName: host, handshakeTimeoutMS: configuration.connectTimeoutMS
        ) { result in
            switch result {
            case .failure(let error):
                self.tcp = nil
                self.finishLogin(.failure(.tls(host: self.host, error)))
            case .success(let tls):
                self.tlsVersion = tls.tls?.version
                self.adopt(tls)
                then()
            }
        }
    }

    private func adopt(_ stream: any ByteStream) {
        control = stream
        stream.delegate = self
    }

    private func finishLogin(_ result: Result<FTPSession, FTPError>) {
        guard let completion = loginCompletion else { return }
        loginCompletion = nil
        login = nil
        if case .failure(let error) = result {
            dead = error
            closeControl()
        }
        completion(result)
    }

    // MARK: commands and replies

    func send(_ command: FTPCommand, then handler: @escaping (FTPReply) -> Void) {
        guard let control else { return }
        control.write(command.wire)
        awaitReply(command.description, handler)
    }

    /// One command outside an upload or a listing (DELE, RNFR, NOOP …): `handler` hears the final reply, or nil when
    /// the session is unusable or dies first (a lost connection, a reply timeout) — it always hears something, so a
    /// caller waiting on it never hangs.
    func exchange(_ command: FTPCommand, then handler: @escaping (FTPReply?) -> Void) {
        guard isUsable else {
            loop.scheduleTimer(afterMilliseconds: 0) { handler(nil) }
            return
        }
        let exchange = SingleExchange(session: self, handler: handler)
        begin(exchange)
        send(command) { [weak exchange] reply in
            guard !reply.isPreliminary else { return }
            exchange?.finish(reply)
        }
    }

    /// Waits for the next reply; the reply timeout runs meanwhile.
    func awaitReply(_ command: String, _ handler: @escaping (FTPReply) -> Void) {
        pendingCommand = command
        replyHandler = handler
        if let replyTimer { loop.cancelTimer(replyTimer) }
        let timeout = configuration.replyTimeoutMS
        replyTimer = loop.scheduleTimer(afterMilliseconds: timeout) { [weak self] in
            guard let self else { return }
            self.replyTimer = nil
            self.die(.timeout(host: self.host, phase: self.pendingCommand, milliseconds: timeout))
        }
    }

    /// Restarts the reply timeout for the reply still awaited (after a transfer's data is all sent, say).
    func armReplyTimeout() {
        guard let handler = replyHandler else { return }
        awaitReply(pendingCommand, handler)
    }

    public func stream(_ stream: any ByteStream, didRead bytes: UnsafeRawBufferPointer) {
        var replies: [FTPReply] = []
        do {
            try parser.feed(bytes) { replies.append($0) }
        } catch {
            return die(.protocolError(host: host, error))
        }
        for reply in replies { deliver(reply) }
    }

    private func deliver(_ reply: FTPReply) {
        guard let handler = replyHandler else {
            // Unasked: 421 means the server is going away; anything else is ignored.
            if reply.code == FTPCode.serviceNotAvailable {
                die(.reply(command: "(idle)", code: reply.code, text: reply.message))
            }
            return
        }
        if let replyTimer { loop.cancelTimer(replyTimer) }
        replyTimer = nil
        // After a preliminary reply (1xx) the same handler waits for the final one, with no timeout meanwhile: a
        // transfer's final reply comes when the transfer ends (the upload re-arms the timeout then).
        if !reply.isPreliminary { replyHandler = nil }
        handler(reply)
    }

    public func streamDidBecomeWritable(_ stream: any ByteStream) {}

    public func stream(_ stream: any ByteStream, didEnd end: StreamEnd) {
        let during = pendingCommand.isEmpty ? "an idle moment" : pendingCommand
        die(.connectionClosed(host: host, during: during))
    }

    /// The control connection is gone or useless: whatever waits hears why.
    private func die(_ error: FTPError) {
        guard dead == nil else { return }
        dead = error
        closeControl()
        replyHandler = nil
        if let loginCompletion {
            self.loginCompletion = nil
            loginCompletion(.failure(error))
        }
        operation?.controlFailed(error)
    }

    private func closeControl() {
        if let replyTimer { loop.cancelTimer(replyTimer) }
        replyTimer = nil
        control?.close()
        control = nil
        tcp = nil
    }

    // MARK: uploads

    /// Publishes one file per `plan`; the delegate is told when to write, and how it ended. One at a time.
    public func upload(plan: FTPPublishPlan, delegate: any FTPUploadDelegate) -> FTPUpload {
        let upload = FTPUpload(session: self, plan: plan, delegate: delegate)
        guard isUsable else {
            let error = dead ?? .invalidArgument("the session is busy with another upload")
            loop.scheduleTimer(afterMilliseconds: 0) { upload.finish(.failure(error)) }
            return upload
        }
        begin(upload)
        upload.start()
        return upload
    }

    /// Where data connections go: the control connection's peer (the PASV host is not trusted unless configured).
    func dataAddress(port: Int, announcedHost: String?) -> SocketAddress? {
        if configuration.trustPassiveAddress, let announcedHost,
            let address = SocketAddress(numericHost: announcedHost, port: port)
        {
            return address
        }
        return control?.peerAddress.withPort(port)
    }

    /// A data connection failure, in words.
    struct DataFailure: Error, CustomStringConvertible {
        let description: String
    }

    /// Opens a data connection to the passive port: TCP, then (PROT P) TLS resuming a session of this client and
    /// checking the control host's name. `connected` hears the TCP connection first (return false to drop it), so
    /// that the transfer command can go while TLS is negotiated; `ready` hears the stream to use, or why not.
    func openDataChannel(
        port: Int, announcedHost: String?, connected: @escaping (TCPConnection) -> Bool,
        ready: @escaping (Result<any ByteStream, DataFailure>) -> Void
    ) {
        guard let address = dataAddress(port: port, announcedHost: announcedHost) else {
            return ready(.failure(DataFailure(description: "no address for the data connection")))
        }
        let options = TCPConnector.Options(connectTimeoutMS: configuration.connectTimeoutMS)
        TCPConnector(loop: loop, options: options).connect(to: [address], host: host) { result in
            let tcp: TCPConnection
            switch result {
            case .failure(let error): return ready(.failure(DataFailure(description: "\(error)")))
            case .success(let connection): tcp = connection
            }
            guard connected(tcp) else { return tcp.close() }
            guard let context = self.tlsContext else { return ready(.success(tcp)) }
            TLSStream.connect(
                over: tcp, context: context, serverName: self.host, session: self.sessionForData,
                handshakeTimeoutMS: self.configuration.connectTimeoutMS
            ) { result in
                switch result {
                case .failure(let error): ready(.failure(DataFailure(description: "TLS: \(error)")))
                case .success(let tls): ready(.success(tls))
                }
            }
        }
    }

    /// Sessions this client received and has not spent: tickets from the control connection's login and from each
    /// data connection. vsftpd only asks that a data connection resume *a* session of this client, and under TLS 1.3
    /// each ticket resumes once: every data connection spends a fresh one (a TLS 1.2 session is reused as it is).
    private var unspentSessions: [TLSSession] = []

    /// Keeps the sessions `stream` received, for later data connections.
    func harvestSessions(from stream: any ByteStream) {
        unspentSessions += stream.takeReceivedTLSSessions().filter(\.isResumable)
    }

    /// The session the next data connection offers.
    var sessionForData: TLSSession? {
        if let control { harvestSessions(from: control) }
        guard let newest = unspentSessions.last else { return control?.resumableTLSSession }
        if newest.isSingleUse { unspentSessions.removeLast() }
        return newest
    }

    var tlsContext: TLSContext? { configuration.security == .none ? nil : context }

    // MARK: housekeeping

    /// Checks that the connection still answers (before reusing a pooled session).
    public func noop(_ completion: @escaping (Bool) -> Void) {
        guard let command = try? FTPCommand("NOOP") else { return completion(false) }
        exchange(command) { reply in completion(reply?.isPositive ?? false) }
    }

    /// Says goodbye politely and closes.
    public func quit(_ completion: (() -> Void)? = nil) {
        guard isUsable, let control, let command = try? FTPCommand("QUIT") else {
            close()
            completion?()
            return
        }
        dead = .connectionClosed(host: host, during: "QUIT")
        control.write(command.wire)
        self.control = nil
        tcp = nil
        if let replyTimer { loop.cancelTimer(replyTimer) }
        replyTimer = nil
        control.closeGracefully(timeoutMS: 2_000) { _ in completion?() }
    }

    /// Drops the connection at once; an upload, listing or command in flight hears that it ended.
    public func close() {
        guard dead == nil else { return closeControl() }
        die(.connectionClosed(host: host, during: "close"))
    }
}

/// The session's current operation while one `exchange` is in flight: hears the session die.
private final class SingleExchange: FTPOperation {
    private unowned let session: FTPSession
    private var handler: ((FTPReply?) -> Void)?

    init(session: FTPSession, handler: @escaping (FTPReply?) -> Void) {
        self.session = session
        self.handler = handler
    }

    func finish(_ reply: FTPReply?) {
        guard let handler else { return }
        self.handler = nil
        session.end(self)
        handler(reply)
    }

    func controlFailed(_ error: FTPError) { finish(nil) }
}
