@_spi(Internals) import Reactor
@_spi(Internals) import TLS

/// A logged-in FTP session on an event loop, able to publish many files one after another. Explicit FTPS by default;
/// the data connections resume a TLS session of this client (vsftpd's `require_ssl_reuse`).
///
/// The shape, after curl's pingpong layer: an `FTPControlChannel` (commands, replies, the reply timeout, 421, the one
/// operation in flight, the trace) and an `FTPDataConnector` that opens `FTPDataChannel`s (PROT P with session
/// resumption, the stall watch, close_notify); the login (`FTPLogin`), each upload (`FTPUpload`) and each listing
/// (`FTPListing`) are thin drivers of a pure machine over those two. This class only assembles them.
///
/// Lifetimes and threads, stated once for the module. Everything runs on `loop`'s thread; the public entry points
/// assert it. Who owns whom:
/// - the caller holds the session; the session holds its control channel and data connector strongly, and the
///   connector holds the control channel (for the peer's address and the TLS tickets): no cycle;
/// - a driver holds the channels strongly; the control channel holds the driver in flight strongly from `begin` until
///   `end` or the channel's death — the one deliberate cycle, which keeps an operation alive while the server has the
///   word, and is always broken when the operation ends (each driver's `finish` calls `end`);
/// - a data channel holds its delegate (the driver) `weak`; a driver holds its data channel strongly and drops it
///   when it ends;
/// - closures follow the capture rule stated above `ByteStream`: reply handlers and watch timers capture `weak`,
///   one-shot completions (connects, the login's steps) may hold their driver or channel until they ran.
public final class FTPSession {
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
        /// Where every command sent and every reply line received goes (PASS masked), under this control
        /// connection's number; nil: nowhere.
        @_spi(Internals) public var trace: ProtocolTrace?

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
    @_spi(Internals) public internal(set) var features = FTPFeatures()
    /// The control connection's TLS version, nil for plain FTP.
    public var tlsVersion: String? { control.tlsVersion }
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

    let control: FTPControlChannel
    let dataConnector: FTPDataConnector
    /// The context the control connection's TLS uses (nil for plain FTP).
    let context: TLSContext?
    private var closeHook: UInt64 = 0

    private init(loop: EventLoop, configuration: Configuration, context: TLSContext?) {
        self.loop = loop
        self.configuration = configuration
        self.context = context
        control = FTPControlChannel(
            loop: loop, host: configuration.host, replyTimeoutMS: configuration.replyTimeoutMS,
            trace: configuration.trace)
        dataConnector = FTPDataConnector(
            control: control, connectTimeoutMS: configuration.connectTimeoutMS,
            trustPassiveAddress: configuration.trustPassiveAddress,
            context: configuration.security == .none ? nil : context)
        // The loop closing ends what is in flight (an async caller would otherwise wait for ever).
        closeHook = loop.addCloseHook { [weak self] in self?.close() }
    }

    deinit { loop.removeCloseHook(closeHook) }

    /// Connects and logs in. `context` lets many sessions share one TLS context (SSL_CTX_new costs ≈ 1 ms);
    /// nil makes one from `configuration.tls`.
    public static func connect(
        loop: EventLoop, configuration: Configuration, context: TLSContext? = nil,
        completion: @escaping ConnectCompletion
    ) {
        loop.assertInLoop()
        var tlsContext = context
        if configuration.security != .none && tlsContext == nil {
            do {
                tlsContext = try TLSContext.shared(configuration.tls)
            } catch {
                loop.scheduleTimer(afterMilliseconds: 0) {
                    completion(.failure(.tls(host: configuration.host, error)))
                }
                return
            }
        }
        let session = FTPSession(loop: loop, configuration: configuration, context: tlsContext)
        FTPLogin(session: session, completion: completion).start()
    }

    public var isUsable: Bool { control.isIdle }
    /// Directories this session has published into. The next upload there skips the MKD of every level — a round
    /// trip each, four for `/srv/ftp/in/daily`, which made up a third of a small file's time on loopback. A failed
    /// upload forgets its directory, so that its retry creates it again (someone may have removed it meanwhile).
    @_spi(Internals) public var knownDirectories: Set<String> = []
    /// The next data connection could resume no TLS session of this client (see
    /// `FTPDataConnector.resumptionExhausted`): a server that requires reuse would refuse it; log in again instead.
    @_spi(Internals) public var dataResumptionExhausted: Bool { dataConnector.resumptionExhausted() }
    /// Whether `count` more data connections can each resume a TLS session of this client (always, without a limit:
    /// see `FTPDataConnector.resumableConnections`). A resumed upload may need two: the STOR after REST refused
    /// takes a new one.
    @_spi(Internals) public func hasDataConnections(_ count: Int) -> Bool {
        dataConnector.resumableConnections().map { $0 >= count } ?? true
    }
    var deadError: FTPError? { control.failure }
    public var isTLS: Bool { tlsVersion != nil }
    var host: String { configuration.host }

    /// One command outside an upload or a listing; see `FTPControlChannel.exchange`.
    func exchange(_ command: FTPCommand, then handler: @escaping (FTPReply?) -> Void) {
        control.exchange(command, then: handler)
    }

    // MARK: uploads

    /// Publishes one file per `plan`; the delegate is told when to write, and how it ended. One at a time.
    public func upload(plan: FTPPublishPlan, delegate: any FTPUploadDelegate) -> FTPUpload {
        upload(plan: plan, restartAt: nil, delegate: delegate)
    }

    /// As `upload(plan:delegate:)`, resuming the plan's temporary file at `restartAt` (REST + STOR; see
    /// `FTPPublishMachine`): the delegate writes from that byte on, or from zero after `restartRefused`.
    @_spi(Internals) public func upload(plan: FTPPublishPlan, restartAt: UInt64?, delegate: any FTPUploadDelegate)
        -> FTPUpload
    {
        loop.assertInLoop()
        let upload = FTPUpload(
            plan: plan, restartAt: restartAt, control: control, connector: dataConnector,
            configuration: configuration, delegate: delegate)
        guard isUsable else {
            let error = deadError ?? .invalidArgument("the session is busy with another upload")
            loop.scheduleTimer(afterMilliseconds: 0) { upload.finish(.failure(error)) }
            return upload
        }
        control.begin(upload)
        upload.start()
        return upload
    }

    // MARK: housekeeping

    /// Checks that the connection still answers (before reusing a pooled session).
    public func noop(_ completion: @escaping (Bool) -> Void) {
        loop.assertInLoop()
        exchange(FTPCommand(constant: "NOOP")) { reply in completion(reply?.isPositive ?? false) }
    }

    /// Says goodbye politely and closes.
    public func quit(_ completion: (() -> Void)? = nil) {
        loop.assertInLoop()
        control.quit(completion)
    }

    /// Drops the connection at once; an upload, listing or command in flight hears that it ended.
    public func close() {
        loop.assertInLoop()
        control.close()
    }
}
