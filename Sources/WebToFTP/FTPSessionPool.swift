@_spi(Internals) import FTP
@_spi(Internals) import Reactor
@_spi(Internals) import TLS

/// The run's FTP logins: a session handed back usable waits here for the next transfer, and a new login is made only
/// when none waits. Closing quits the waiting sessions and waits for logins under way, which would otherwise
/// outlive the run (an attempt that failed while its session was connecting hands it back later).
final class FTPSessionPool {
    private enum State {
        case open
        /// Cancelled: sessions handed back are closed, not kept.
        case draining
        /// Quitting: `then` runs once the last idle session has quit and no login is under way.
        case closing(quitting: Int, then: () -> Void)
        case closed
    }

    private let loop: EventLoop
    private let ftp: FTPEnvironment
    private let options: RunOptions
    private let log: RunLog
    private var configuration: FTPSession.Configuration
    /// Made at the first TLS login, and shared: the data connections resume its sessions.
    private var context: TLSContext?
    private var state = State.open
    private var idle: [FTPSession] = []
    private(set) var loginsUnderWay = 0
    private var loggedFirstLogin = false
    /// Under `--trace`, where every session reports its commands and replies.
    let trace: ProtocolTrace?

    init(loop: EventLoop, ftp: FTPEnvironment, options: RunOptions, log: RunLog, trace: ProtocolTrace?) {
        self.loop = loop
        self.ftp = ftp
        self.options = options
        self.log = log
        self.trace = trace
        configuration = FTPSession.Configuration(host: ftp.host, port: ftp.port, user: ftp.user, password: ftp.password)
        configuration.security = ftp.security
        configuration.tls = options.tls
        configuration.trustPassiveAddress = options.trustPassiveAddress
        if let timeout = options.ftpTimeoutMS {
            configuration.connectTimeoutMS = timeout
            configuration.replyTimeoutMS = timeout
            configuration.dataIdleTimeoutMS = timeout
        }
        configuration.trace = trace
    }

    /// A usable session: a waiting one, else a new login. Its first success logs the server's warnings and `ftp_login`.
    func acquire(_ done: @escaping (Result<FTPSession, FTPError>) -> Void) {
        while let session = idle.popLast() {
            if session.isUsable { return done(.success(session)) }
            session.close()
        }
        if context == nil && ftp.security != .none { context = try? TLSContext.shared(options.tls) }
        loginsUnderWay += 1
        FTPSession.connect(loop: loop, configuration: configuration, context: context) { result in
            // Strong: the pool lives until its last login has ended (`close` waits for it).
            self.loginsUnderWay -= 1
            if case .success(let session) = result { self.logFirstLogin(session) }
            done(result)
            self.closeIfDone()
        }
    }

    /// Takes a session back: kept while the run goes on and the session is usable, else closed.
    func release(_ session: FTPSession) {
        guard case .open = state, session.isUsable else { return session.close() }
        idle.append(session)
    }

    /// The run was cancelled: no session is kept from now on.
    func drain() {
        guard case .open = state else { return }
        state = .draining
    }

    /// Quits every waiting session (QUIT, then close) and calls `then` when they and any login under way are done.
    func close(then: @escaping () -> Void) {
        switch state {
        case .open, .draining: break
        case .closing, .closed: preconditionFailure("the session pool closed twice")
        }
        let sessions = idle
        idle = []
        state = .closing(quitting: sessions.count, then: then)
        for session in sessions {
            session.quit { [unowned self] in
                guard case .closing(let quitting, let then) = self.state else { return }
                self.state = .closing(quitting: quitting - 1, then: then)
                self.closeIfDone()
            }
        }
        closeIfDone()
    }

    private func closeIfDone() {
        guard case .closing(let quitting, let then) = state, quitting == 0, loginsUnderWay == 0 else { return }
        state = .closed
        then()
    }

    private func logFirstLogin(_ session: FTPSession) {
        guard !loggedFirstLogin else { return }
        loggedFirstLogin = true
        for warning in session.warnings { log.event(.warning, source: nil, "ftp", [("detail", warning)]) }
        log.event(.info, source: nil, "ftp_login", [("host", ftp.host), ("tls", session.tlsVersion ?? "none")])
    }
}
