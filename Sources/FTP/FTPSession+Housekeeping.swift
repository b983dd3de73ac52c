import Reactor
import TLS

extension FTPSession {
    /// The names in `directory` (dot-files included), for finding our own leftovers.
    public func listNames(_ directory: String, completion: @escaping (Result<[String], FTPError>) -> Void) {
        guard isUsable else {
            let error = deadError ?? .invalidArgument("the session is busy")
            loop.scheduleTimer(afterMilliseconds: 0) { completion(.failure(error)) }
            return
        }
        Listing(session: self, directory: directory, completion: completion).start()
    }

    /// Deletes `paths` one after the other (temporary files an attempt could not remove itself, its connection lost);
    /// `completion` gets those the server deleted. A path that is already gone is not an error worth reporting.
    public func deleteFiles(_ paths: [String], completion: @escaping ([String]) -> Void) {
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
    /// deleted. Returns what it did. Newer leftovers may belong to a run in progress and are left alone.
    public func removeLeftovers(
        in directory: String, olderThanSeconds: Int64 = 24 * 3600, now: Int64 = Clock.unixSeconds(),
        completion: @escaping (Result<[FTPLeftovers.Step], FTPError>) -> Void
    ) {
        listNames(directory) { result in
            switch result {
            case .failure(let error):
                completion(.failure(error))
            case .success(let names):
                let steps = FTPLeftovers.plan(names: names, now: now, olderThanSeconds: olderThanSeconds)
                self.perform(steps[...], in: directory, done: []) { completion(.success($0)) }
            }
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

/// One NLST: drives an `FTPListMachine` and collects the listing (capped: a directory of our own uploads is small).
private final class Listing: ByteStreamDelegate, FTPOperation {
    private let session: FTPSession
    private var machine: FTPListMachine
    private var completion: ((Result<[String], FTPError>) -> Void)?
    private var data: (any ByteStream)?
    private var received: [UInt8] = []
    private static let maximum = 16 * 1024 * 1024
    /// The listing's data must keep coming: a stalled server would otherwise hold the run forever (the reply
    /// timeout does not run between NLST's 150 and its 226, and found so by the fault matrix).
    private var idleTimer: TimerID?

    init(session: FTPSession, directory: String, completion: @escaping (Result<[String], FTPError>) -> Void) {
        self.session = session
        self.completion = completion
        machine = FTPListMachine(directory: directory, host: session.configuration.host)
    }

    func start() {
        session.begin(self)
        perform(machine.start())
    }

    private func step(_ event: FTPListMachine.Event) {
        perform(machine.handle(event))
    }

    private func perform(_ actions: [FTPListMachine.Action]) {
        for action in actions {
            switch action {
            case .send(let command):
                session.send(command) { [weak self] reply in self?.step(.reply(reply)) }
            case .openData(let port, let announced):
                session.openDataChannel(
                    port: port, announcedHost: announced,
                    connected: { [weak self] _ in
                        self?.step(.dataConnected)
                        return self != nil
                    },
                    ready: { [weak self] result in
                        guard let self else { return }
                        switch result {
                        case .failure(let reason): self.step(.dataFailed(reason.description))
                        case .success(let stream):
                            self.data = stream
                            stream.delegate = self
                            self.armIdleTimer()
                        }
                    })
            case .epsvRefused:
                break
            case .listed(let names):
                finish(.success(names))
            case .failed(let error):
                finish(.failure(error))
            }
        }
    }

    private func armIdleTimer() {
        stopIdleTimer()
        let timeout = session.configuration.replyTimeoutMS
        idleTimer = session.loop.scheduleTimer(afterMilliseconds: timeout) { [weak self] in
            guard let self else { return }
            self.idleTimer = nil
            self.data?.close()
            self.data = nil
            self.session.armReplyTimeout()
            self.step(.dataFailed("no listing data for \(timeout) ms"))
        }
    }

    private func stopIdleTimer() {
        if let idleTimer { session.loop.cancelTimer(idleTimer) }
        idleTimer = nil
    }

    func stream(_ stream: any ByteStream, didRead bytes: UnsafeRawBufferPointer) {
        armIdleTimer()
        received.append(contentsOf: bytes)
        if received.count > Self.maximum {
            step(.dataFailed("the listing is larger than \(Self.maximum) bytes"))
        }
    }

    func streamDidBecomeWritable(_ stream: any ByteStream) {}

    func stream(_ stream: any ByteStream, didEnd end: StreamEnd) {
        session.harvestSessions(from: stream)
        stream.closeAfterPeerEnded()
        data = nil
        stopIdleTimer()
        // The 226 is still to come: from now on the reply timeout runs again.
        session.armReplyTimeout()
        if case .failed(let error) = end, !(error is TLSError) {
            return step(.dataFailed("\(error)"))
        }
        // A TLS close without close_notify is tolerated here: the 226 that must follow vouches for the listing.
        step(.dataFinished(String(decoding: received, as: UTF8.self)))
    }

    func controlFailed(_ error: FTPError) {
        finish(.failure(error))
    }

    private func finish(_ result: Result<[String], FTPError>) {
        guard let completion else { return }
        self.completion = nil
        stopIdleTimer()
        data?.close()
        data = nil
        session.end(self)
        completion(result)
    }
}
