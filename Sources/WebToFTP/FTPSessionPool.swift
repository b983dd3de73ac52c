@_spi(Internals) import FTP
@_spi(Internals) import Reactor
@_spi(Internals) import TLS

/// The run's FTP logins: a session handed back usable waits here for the next transfer, and a new login is made only
/// when none waits and `FTPLoginGate` allows it. Closing quits the waiting sessions and waits for logins under way, which would otherwise
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
    /// Sessions retired while the run goes on (their TLS tickets spent), still saying goodbye.
    private var retiring = 0
    private var gate = FTPLoginGate()
    /// Askers waiting for the first login to end, or for a session once the server's session limit is reached, and
    /// how many data connections each needs.
    private var waiting: [(needs: Int, done: (Result<FTPSession, FTPError>) -> Void)] = []
    /// Sessions handed out and not back yet.
    private var lent = 0
    /// Hears, once, that the destination is unusable (see `FTPLoginGate`): the pipeline fails every source at once.
    var onUnusable: ((FTPError) -> Void)?
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

    /// A usable session: an idle one, else a new login when `FTPLoginGate` allows one, else the asker waits (for
    /// the first login, or for a session to come back). Its first success logs the server's warnings and `ftp_login`.
    /// `dataConnections`: how many data connections the asker may open (an idle session whose TLS tickets do not
    /// last that long is retired, and a new login made).
    func acquire(dataConnections needs: Int = 1, _ done: @escaping (Result<FTPSession, FTPError>) -> Void) {
        while let session = idle.popLast() {
            if session.isUsable && session.hasDataConnections(needs) { return lend(session, to: done) }
            retire(session)
        }
        switch gate.admit(sessions: idle.count + lent + loginsUnderWay) {
        case .login:
            login(needs, done)
        case .wait:
            waiting.append((needs, done))
        case .fail(let error):
            // Later, as a login's failure would come: the asker may not expect its answer while it asks.
            loop.scheduleTimer(afterMilliseconds: 0) { done(.failure(error)) }
        }
    }

    /// The failure that made the FTP destination unusable for this run, once one has.
    var unusable: FTPError? { gate.unusable }

    private func login(_ needs: Int, _ done: @escaping (Result<FTPSession, FTPError>) -> Void) {
        if context == nil && ftp.security != .none { context = try? TLSContext.shared(options.tls) }
        loginsUnderWay += 1
        FTPSession.connect(loop: loop, configuration: configuration, context: context) { result in
            // Strong: the pool lives until its last login has ended (`close` waits for it).
            self.loginsUnderWay -= 1
            self.loginEnded(result, needs, done)
            self.closeIfDone()
        }
    }

    private func loginEnded(
        _ result: Result<FTPSession, FTPError>, _ needs: Int,
        _ done: @escaping (Result<FTPSession, FTPError>) -> Void
    ) {
        let failure: FTPError?
        switch result {
        case .success: failure = nil
        case .failure(let error): failure = error
        }
        switch gate.loginEnded(failure, others: idle.count + lent) {
        case .deliver:
            if case .success(let session) = result {
                logFirstLogin(session)
                lend(session, to: done)
            } else {
                done(result)
            }
            wakeWaiting()
        case .failAll(let unusable):
            guard let failure else { return }
            if unusable {
                log.event(.error, source: nil, "ftp_login", [("reason", "\(failure)"), ("destination", "unusable")])
                onUnusable?(failure)
            }
            let askers = [done] + waiting.map(\.done)
            waiting = []
            for asker in askers { asker(.failure(failure)) }
        case .backOff(let limit):
            log.event(
                .warning, source: nil, "ftp_login",
                [
                    .init("reason", .text(failure.map { "\($0)" } ?? "")), .init("sessions", .integer(Int64(limit))),
                    .init("run", .text("goes on")),
                ])
            waiting.append((needs, done))
            if !idle.isEmpty { wakeWaiting() }
        }
    }

    private func lend(_ session: FTPSession, to done: (Result<FTPSession, FTPError>) -> Void) {
        lent += 1
        done(.success(session))
    }

    /// Those waiting ask again: the first login ended, or a session went away and made room for a login.
    private func wakeWaiting() {
        let askers = waiting
        waiting = []
        for asker in askers { acquire(dataConnections: asker.needs, asker.done) }
    }

    /// Takes a session back: handed to the next one waiting, else kept while the run goes on and the session is
    /// usable, else closed.
    func release(_ session: FTPSession) {
        lent -= 1
        guard case .open = state, session.isUsable, !session.dataResumptionExhausted,
            session.hasDataConnections(waiting.first?.needs ?? 1)
        else {
            retire(session)
            return wakeWaiting()
        }
        if !waiting.isEmpty { return lend(session, to: waiting.removeFirst().done) }
        idle.append(session)
    }

    /// A session not kept: a live one says goodbye (QUIT) — one whose TLS tickets are spent is still logged in — a
    /// dead or busy one is closed.
    private func retire(_ session: FTPSession) {
        guard session.isUsable else { return session.close() }
        retiring += 1
        // The closure holds the session until its QUIT is answered; closing the pool waits for it.
        session.quit {
            withExtendedLifetime(session) {}
            self.retiring -= 1
            self.closeIfDone()
        }
    }

    /// The run was cancelled: no session is kept from now on.
    func drain() {
        guard case .open = state else { return }
        state = .draining
        // Their transfers are being cancelled: a login made for them now would only be closed again.
        failWaiting(.aborted("cancelled"))
    }

    private func failWaiting(_ error: FTPError) {
        let askers = waiting
        waiting = []
        for asker in askers { asker.done(.failure(error)) }
    }

    /// Quits every waiting session (QUIT, then close) and calls `then` when they and any login under way are done.
    func close(then: @escaping () -> Void) {
        switch state {
        case .open, .draining: break
        case .closing, .closed: preconditionFailure("the session pool closed twice")
        }
        let sessions = idle
        idle = []
        // Nobody will hand a session back now: those still waiting would wait for ever.
        failWaiting(.aborted("the run is closing"))
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
        guard case .closing(let quitting, let then) = state, quitting == 0, loginsUnderWay == 0, retiring == 0 else {
            return
        }
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
