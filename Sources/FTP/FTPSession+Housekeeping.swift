@_spi(Internals) import Reactor

extension FTPSession {
    /// The names in `directory` (dot-files included), for finding our own leftovers.
    @_spi(Internals) public func listNames(
        _ directory: String, completion: @escaping (Result<[String], FTPError>) -> Void
    ) {
        loop.assertInLoop()
        guard isUsable else {
            let error = deadError ?? .invalidArgument("the session is busy")
            loop.scheduleTimer(afterMilliseconds: 0) { completion(.failure(error)) }
            return
        }
        let listing = FTPListing(
            directory: directory, control: control, connector: dataConnector,
            idleTimeoutMS: configuration.replyTimeoutMS, completion: completion)
        control.begin(listing)
        listing.start()
    }

    /// The size of `path` by SIZE (binary mode: the session's TYPE I), nil when the server has no such file or does
    /// not say (a refusal, no SIZE command, a lost connection): whoever asks treats "unknown" as "not there".
    @_spi(Internals) public func size(of path: String, completion: @escaping (UInt64?) -> Void) {
        loop.assertInLoop()
        guard isUsable, let command = try? FTPCommand("SIZE", path) else {
            loop.scheduleTimer(afterMilliseconds: 0) { completion(nil) }
            return
        }
        exchange(command) { reply in
            guard let reply, reply.code == 213 else { return completion(nil) }
            completion(UInt64(reply.message.split(separator: " ").first ?? ""))
        }
    }

    /// Deletes `paths` one after the other (temporary files an attempt could not remove itself, its connection lost);
    /// `completion` gets those the server deleted. A path that is already gone is not an error worth reporting.
    @_spi(Internals) public func deleteFiles(_ paths: [String], completion: @escaping ([String]) -> Void) {
        loop.assertInLoop()
        guard let path = paths.first else { return completion([]) }
        guard let command = try? FTPCommand("DELE", path) else { return completion([]) }
        exchange(command) { reply in
            self.deleteFiles(Array(paths.dropFirst())) { deleted in
                completion(reply?.isPositive == true ? [path] + deleted : deleted)
            }
        }
    }

    /// Removes leftovers of earlier runs in `directory` older than `olderThanSeconds` (default a day): stale temporary
    /// files are deleted; a stale backup is put back when its final name is missing (an interrupted swap), else
    /// deleted. Newer leftovers may belong to a run in progress and are left alone — but with `here`, a temporary
    /// upload of a killed run of this host goes early (see `FTPLeftovers`), its modification time asked with MDTM.
    /// Returns what it did.
    @_spi(Internals) public func removeLeftovers(
        in directory: String, olderThanSeconds: Int64 = 24 * 3600, now: Int64 = MonotonicClock.unixSeconds(),
        here: FTPLeftovers.Here? = nil, completion: @escaping (Result<[FTPLeftovers.Step], FTPError>) -> Void
    ) {
        loop.assertInLoop()
        listNames(directory) { result in
            switch result {
            case .failure(let error):
                completion(.failure(error))
            case .success(let names):
                let killed =
                    here.map {
                        FTPLeftovers.killedRunParts(
                            names: names, now: now, olderThanSeconds: olderThanSeconds, here: $0)
                    } ?? []
                self.modificationTimes(killed[...], in: directory, found: [:]) { modified in
                    let steps = FTPLeftovers.plan(
                        names: names, now: now, olderThanSeconds: olderThanSeconds, modified: modified)
                    self.perform(steps[...], in: directory, done: []) { completion(.success($0)) }
                }
            }
        }
    }

    /// MDTM of each name in turn; a name the server gives no time for is left out.
    private func modificationTimes(
        _ names: ArraySlice<String>, in directory: String, found: [String: Int64],
        completion: @escaping ([String: Int64]) -> Void
    ) {
        guard let name = names.first else { return completion(found) }
        guard isUsable, let command = try? FTPCommand("MDTM", FTPPublishPlan.join(directory, name)) else {
            return completion(found)
        }
        exchange(command) { reply in
            var found = found
            found[name] = reply.flatMap(FTPLeftovers.modificationTime)
            self.modificationTimes(names.dropFirst(), in: directory, found: found, completion: completion)
        }
    }

    private func perform(
        _ steps: ArraySlice<FTPLeftovers.Step>, in directory: String, done: [FTPLeftovers.Step],
        completion: @escaping ([FTPLeftovers.Step]) -> Void
    ) {
        guard let step = steps.first else { return completion(done) }
        let path = { (name: String) in FTPPublishPlan.join(directory, name) }
        let next = { (succeeded: Bool) in
            self.perform(
                steps.dropFirst(), in: directory, done: succeeded ? done + [step] : done, completion: completion)
        }
        switch step {
        case .delete(let name):
            guard let command = try? FTPCommand("DELE", path(name)) else { return next(false) }
            exchange(command) { next($0?.isPositive == true) }
        case .restore(let backup, let final):
            guard let from = try? FTPCommand("RNFR", path(backup)), let to = try? FTPCommand("RNTO", path(final)) else {
                return next(false)
            }
            exchange(from) { reply in
                guard reply?.isIntermediate == true else { return next(false) }
                self.exchange(to) { next($0?.isPositive == true) }
            }
        }
    }
}
