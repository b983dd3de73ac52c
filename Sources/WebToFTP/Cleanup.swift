@_spi(Internals) import FTP
@_spi(Internals) import Reactor

/// Our temporary files on the server. Before the first upload: leftovers of earlier runs, older than a day, go from
/// each target directory (a crashed run's temporary files; a backup whose swap was interrupted is put back) — newer
/// ones may belong to a run going on, unless a killed run of this host left them (see `FTPLeftovers`). After the last transfer: the temporary files of this run's failed attempts
/// whose own clean-up could not be confirmed (a connection lost mid-publish) go over a working session, so that a
/// retry that published leaves nothing behind either. An interrupted run cleans up too, for as long as the cancel
/// deadline allows: an interrupt is when a temporary file is most likely left, its session cut mid-transfer.
final class Cleanup {
    private enum State {
        /// Noting the temporary files of failed attempts that may remain.
        case collecting([String])
        /// Deleting them over `session` (nil while it logs in); `then` is the run's next step.
        case deleting(paths: [String], session: FTPSession?, then: () -> Void)
        case done
    }

    private let pool: FTPSessionPool
    private let log: RunLog
    private var state = State.collecting([])
    /// The run was cancelled: leftovers are not looked for in the directories not yet visited.
    private var stopped = false
    /// An interrupted run's time for cleaning up is over: what is left is reported, not deleted.
    private var outOfTime = false

    init(pool: FTPSessionPool, log: RunLog) {
        self.pool = pool
        self.log = log
    }

    /// Removes old leftovers from each directory in turn, over one session, then calls `then`. A failed login is
    /// not reported here: the uploads will each report it.
    func removeLeftovers(in directories: [String], then: @escaping () -> Void) {
        guard !directories.isEmpty, !stopped else { return then() }
        pool.acquire { result in
            guard case .success(let session) = result else { return then() }
            var remaining = directories[...]
            func next() {
                guard let directory = remaining.popFirst(), !self.stopped else {
                    self.pool.release(session)
                    return then()
                }
                let here = FTPLeftovers.Here(host: SystemInfo.hostName, isAlive: SystemInfo.processIsAlive)
                session.removeLeftovers(in: directory, here: here) { result in
                    self.logLeftovers(in: directory, result)
                    next()
                }
            }
            next()
        }
    }

    private func logLeftovers(in directory: String, _ result: Result<[FTPLeftovers.Step], FTPError>) {
        switch result {
        case .success(let steps) where !steps.isEmpty:
            let restored = steps.filter { if case .restore = $0 { true } else { false } }.count
            log.event(
                .info, source: nil, "leftovers",
                [
                    .init("directory", .text(directory)), .init("deleted", .integer(Int64(steps.count - restored))),
                    .init("restored", .integer(Int64(restored))),
                ])
        case .success:
            break
        case .failure(let error):
            log.event(.warning, source: nil, "leftovers", [("directory", directory), ("reason", "\(error)")])
        }
    }

    /// A failed attempt's temporary file that may still be on the server.
    func noteOrphan(_ path: String) {
        guard case .collecting(let paths) = state else { preconditionFailure("an orphan noted after the clean-up") }
        state = .collecting(paths + [path])
    }

    /// The run was cancelled.
    func stop() { stopped = true }

    /// Deletes the noted files, then calls `then` (at once when there are none).
    func removeOrphans(then: @escaping () -> Void) {
        guard case .collecting(let paths) = state else { preconditionFailure("the clean-up ran twice") }
        guard !paths.isEmpty, !outOfTime else {
            state = .done
            if !paths.isEmpty { reportLeft(paths, reason: "interrupted, and out of time for the clean-up") }
            return then()
        }
        state = .deleting(paths: paths, session: nil, then: then)
        pool.acquire { result in
            guard case .deleting(_, _, let then) = self.state else {
                // Abandoned while logging in.
                if case .success(let late) = result { late.close() }
                return
            }
            switch result {
            case .success(let session):
                self.state = .deleting(paths: paths, session: session, then: then)
                session.deleteFiles(paths) { deleted in
                    guard case .deleting = self.state else { return }  // abandoned at the deadline
                    self.state = .done
                    self.log.event(
                        .info, source: nil, "cleanup",
                        [
                            .init("temporary_files_deleted", .integer(Int64(deleted.count))),
                            .init("checked", .integer(Int64(paths.count))),
                        ])
                    self.pool.release(session)
                    then()
                }
            case .failure(let error):
                self.abandon("\(error)")
            }
        }
    }

    /// The cancel deadline passed: a deletion under way is given up (its files reported), and none is started.
    func timeIsUp() {
        outOfTime = true
        abandon("interrupted, and the server did not confirm the deletion in time")
    }

    private func abandon(_ reason: String) {
        guard case .deleting(let paths, let session, let then) = state else { return }
        state = .done
        session?.close()
        reportLeft(paths, reason: reason)
        then()
    }

    private func reportLeft(_ paths: [String], reason: String) {
        log.event(
            .warning, source: nil, "cleanup", [("reason", reason), ("temporary_files", paths.joined(separator: " "))])
    }
}
