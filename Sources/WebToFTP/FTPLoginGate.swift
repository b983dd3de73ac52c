@_spi(Internals) import FTP

/// When the run may log in to the FTP server, and what a login's end means for the run. Pure: `FTPSessionPool`
/// asks it and does what it says.
///
/// Until a login has succeeded, logins go one at a time and the others wait for it: a wrong password or an untrusted
/// certificate then costs one failed login, not one per source (fail2ban and account lock-outs count them). Its
/// permanent failure makes the destination unusable for the rest of the run; a transient one (refused, timed out)
/// is shared with those waiting, who retry on their own back-off, and the next login goes alone again. After a
/// success, a 530 to a further login while other sessions are alive is the server's per-user session limit
/// (proftpd's MaxClientsPerUser answers so): the asker waits for a session to come back, and the run keeps to the
/// sessions it has.
struct FTPLoginGate {
    enum Admission {
        case login
        /// Wait: for the first login to end, or for a session once the server's limit is reached.
        case wait
        case fail(FTPError)
    }

    /// What the end of a login means.
    enum Verdict: Equatable {
        /// The asker gets the result; those waiting ask again.
        case deliver
        /// The asker and everyone waiting get the failure; with `unusable`, so does every later asker.
        case failAll(unusable: Bool)
        /// The asker waits for a session to come back instead.
        case backOff(limit: Int)
    }

    private enum State {
        case untried
        case firstUnderWay
        case open(limit: Int?)
        case unusable(FTPError)
    }

    private var state = State.untried

    /// The failure that made the destination unusable, once one has.
    var unusable: FTPError? {
        if case .unusable(let error) = state { return error }
        return nil
    }

    /// `sessions`: logged-in sessions alive, plus logins under way.
    mutating func admit(sessions: Int) -> Admission {
        switch state {
        case .untried:
            state = .firstUnderWay
            return .login
        case .firstUnderWay:
            return .wait
        case .open(let limit):
            if let limit, sessions >= limit { return .wait }
            return .login
        case .unusable(let error):
            return .fail(error)
        }
    }

    /// A login ended; `others` is the logged-in sessions alive besides it.
    mutating func loginEnded(_ failure: FTPError?, others: Int) -> Verdict {
        switch state {
        case .firstUnderWay:
            guard let failure else {
                state = .open(limit: nil)
                return .deliver
            }
            if failure.isTransient {
                state = .untried
                return .failAll(unusable: false)
            }
            state = .unusable(failure)
            return .failAll(unusable: true)
        case .open:
            guard let failure, Self.isLoginRefused(failure), others > 0 else { return .deliver }
            state = .open(limit: others)
            return .backOff(limit: others)
        case .untried, .unusable:
            return .deliver
        }
    }

    static func isLoginRefused(_ error: FTPError) -> Bool {
        if case .reply(_, 530, _) = error { return true }
        return false
    }
}
