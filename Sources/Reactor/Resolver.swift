/// Name resolution off the loop thread: getaddrinfo(3) blocks, so each lookup runs on a short-lived worker thread and
/// posts its answer back to the loop. Numeric addresses skip the worker.
@_spi(Internals) public final class Resolver {
    private let loop: EventLoop
    private var callback: LoopCallback<Result<[SocketAddress], ReactorError>>?
    private var timer: TimerID?

    public init(loop: EventLoop) {
        self.loop = loop
    }

    /// Resolves `host` (a name, or an IPv4/IPv6 literal without brackets) for TCP `port`. `completion` runs on the
    /// loop exactly once: with the addresses in the resolver's order, an error, or `.resolveTimeout` once
    /// `timeoutMS` passed (the worker is then abandoned; it ends by itself when getaddrinfo returns).
    public func resolve(
        host: String, port: Int, timeoutMS: Int,
        completion: @escaping (Result<[SocketAddress], ReactorError>) -> Void
    ) {
        loop.assertInLoop()
        precondition(callback == nil && timer == nil, "one lookup at a time per Resolver")
        if let numeric = SocketAddress(numericHost: host, port: port) {
            // Still asynchronous, so that callers see one completion order whatever the host looks like.
            timer = loop.scheduleTimer(afterMilliseconds: 0) {
                self.timer = nil
                completion(.success([numeric]))
            }
            return
        }
        // The callback and the timer hold the resolver until the lookup ends, so a caller need not keep it.
        let finish = loop.makeCallback { (result: Result<[SocketAddress], ReactorError>) in
            if let timer = self.timer { self.loop.cancelTimer(timer) }
            self.timer = nil
            self.callback = nil
            completion(result)
        }
        callback = finish
        timer = loop.scheduleTimer(afterMilliseconds: timeoutMS) {
            guard let pending = self.callback else { return }
            self.loop.cancelCallback(pending)
            self.callback = nil
            self.timer = nil
            completion(.failure(.resolveTimeout(host: host, milliseconds: timeoutMS)))
        }
        do {
            _ = try Sys.spawnThread(detached: true) {
                finish.fulfill(Sys.getAddresses(host: host, port: port))
            }
        } catch {
            loop.cancelCallback(finish)
            if let timer { loop.cancelTimer(timer) }
            callback = nil
            timer = nil
            loop.scheduleTimer(afterMilliseconds: 0) { completion(.failure(error)) }
        }
    }

    /// Abandons the lookup in flight; its completion will not run.
    public func cancel() {
        if let callback { loop.cancelCallback(callback) }
        if let timer { loop.cancelTimer(timer) }
        callback = nil
        timer = nil
    }
}
