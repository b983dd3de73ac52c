@_spi(Internals) import Reactor

/// A response body read on demand, for the async API: a single-pass sequence of chunks with backpressure. At most one
/// chunk waits here; while it waits, the connection is not read. A second iterator is a programming error. Dropping
/// the body (and its iterator) before the end closes the connection, which then never goes back to the pool;
/// cancelling the Task that waits in `next()` ends the body with `HTTPError.cancelled`.
@_spi(Internals) public struct HTTPBody: AsyncSequence, Sendable {
    public typealias Element = [UInt8]
    public typealias Failure = HTTPError

    let owner: BodyOwner

    public func makeAsyncIterator() -> Iterator {
        owner.channel.claimIterator()
        return Iterator(owner: owner)
    }

    public struct Iterator: AsyncIteratorProtocol {
        public typealias Element = [UInt8]
        public typealias Failure = HTTPError

        let owner: BodyOwner

        public mutating func next() async throws(HTTPError) -> [UInt8]? {
            try await owner.channel.next()
        }

        public mutating func next(isolation actor: isolated (any Actor)?) async throws(HTTPError) -> [UInt8]? {
            try await owner.channel.next()
        }
    }
}

/// The consumer's hold on a body: when the last copy of the body and its iterator is gone, the rest is not wanted.
final class BodyOwner: Sendable {
    let channel: BodyChannel

    init(channel: BodyChannel) { self.channel = channel }

    deinit { channel.cancel() }
}

/// What the loop side (`AsyncResponse`) and the consumer share: the head on its way, the one chunk that may wait, the
/// end, and whoever waits for them. Every continuation is resumed exactly once, outside the lock.
/// @unchecked Sendable: the state is behind its lock; `responder` is touched on the loop thread only.
final class BodyChannel: @unchecked Sendable {
    typealias Chunk = Result<[UInt8]?, HTTPError>

    private struct State: Sendable {
        var headWaiter: CheckedContinuation<Result<HTTPResponseHead, HTTPError>, Never>?
        var chunkWaiter: CheckedContinuation<Chunk, Never>?
        var chunk: [UInt8]?
        var end: Result<Void, HTTPError>?
        var iterated = false
    }

    private let state = LockedValue(State())
    let handle: EventLoopHandle
    /// Loop thread only. Weak: the task holds it (as its delegate) until the task finishes.
    weak var responder: AsyncResponse?

    init(handle: EventLoopHandle) { self.handle = handle }

    var isEnded: Bool { state.withLock { $0.end != nil } }

    // MARK: the consumer's side

    func waitForHead(_ waiter: CheckedContinuation<Result<HTTPResponseHead, HTTPError>, Never>) {
        let ended: HTTPError? = state.withLock { state in
            if case .failure(let error)? = state.end { return error }
            state.headWaiter = waiter
            return nil
        }
        if let ended { waiter.resume(returning: .failure(ended)) }
    }

    func claimIterator() {
        let first = state.withLock { state in
            defer { state.iterated = true }
            return !state.iterated
        }
        precondition(first, "HTTPBody is single-pass: a second iterator was made")
    }

    func next() async throws(HTTPError) -> [UInt8]? {
        let chunk = await withTaskCancellationHandler {
            await withCheckedContinuation { (waiter: CheckedContinuation<Chunk, Never>) in wait(waiter) }
        } onCancel: {
            cancel()
        }
        return try chunk.get()
    }

    private func wait(_ waiter: CheckedContinuation<Chunk, Never>) {
        let ready: Chunk? = state.withLock { state in
            if let chunk = state.chunk {
                state.chunk = nil
                return .success(chunk)
            }
            switch state.end {
            case .success?: return .success(nil)
            case .failure(let error)?: return .failure(error)
            case nil:
                precondition(state.chunkWaiter == nil, "HTTPBody: next() while another next() waits")
                state.chunkWaiter = waiter
                return nil
            }
        }
        guard let ready else { return }
        if case .success(.some) = ready {
            // The chunk that waited is taken: the connection may be read again.
            handle.execute { _ in self.responder?.resumeReading() }
        }
        waiter.resume(returning: ready)
    }

    /// The consumer gave up (Task cancelled, body dropped): whoever waits hears `.cancelled`, the task is cancelled.
    func cancel() {
        let waiters = state.withLock { state in
            // A chunk still waiting is lost: the body must not then end as if complete.
            if state.end == nil || state.chunk != nil { state.end = .failure(.cancelled) }
            state.chunk = nil
            defer {
                state.headWaiter = nil
                state.chunkWaiter = nil
            }
            return (state.headWaiter, state.chunkWaiter)
        }
        waiters.0?.resume(returning: .failure(.cancelled))
        waiters.1?.resume(returning: .failure(.cancelled))
        handle.execute { _ in self.responder?.cancel() }
    }

    // MARK: the loop's side

    func deliverHead(_ head: HTTPResponseHead) {
        let waiter = state.withLock { state in
            defer { state.headWaiter = nil }
            return state.headWaiter
        }
        waiter?.resume(returning: .success(head))
    }

    /// Hands `bytes` to a waiting consumer, or keeps them; returns true when they wait here (pause the task).
    func deliver(_ bytes: [UInt8]) -> Bool {
        let waiter: CheckedContinuation<Chunk, Never>? = state.withLock { state in
            guard state.end == nil else { return nil }
            if let waiter = state.chunkWaiter {
                state.chunkWaiter = nil
                return waiter
            }
            state.chunk = bytes
            return nil
        }
        guard let waiter else { return state.withLock { $0.chunk != nil } }
        waiter.resume(returning: .success(bytes))
        return false
    }

    func finish(_ result: Result<Void, HTTPError>) {
        let waiters = state.withLock { state in
            if state.end == nil { state.end = result }
            defer {
                state.headWaiter = nil
                state.chunkWaiter = nil
            }
            return (state.headWaiter, state.chunkWaiter, state.end!)
        }
        if let head = waiters.0 {
            guard case .failure(let error) = waiters.2 else {
                preconditionFailure("a response finished before its head")
            }
            head.resume(returning: .failure(error))
        }
        switch waiters.2 {
        case .success: waiters.1?.resume(returning: .success(nil))
        case .failure(let error): waiters.1?.resume(returning: .failure(error))
        }
    }
}

/// The loop side of an async request: the task's delegate, feeding the channel and pausing the task while a chunk
/// waits there.
final class AsyncResponse: HTTPResponseDelegate {
    let channel: BodyChannel
    weak var task: HTTPTask?

    init(channel: BodyChannel) { self.channel = channel }

    func task(_ task: HTTPTask, didReceiveHead head: HTTPResponseHead) {
        channel.deliverHead(head)
    }

    func task(_ task: HTTPTask, didReceive bytes: UnsafeRawBufferPointer) {
        guard !bytes.isEmpty else { return }
        if channel.deliver([UInt8](bytes)) { task.pause() }
    }

    func task(_ task: HTTPTask, didFinish result: Result<HTTPResponseSummary, HTTPError>) {
        channel.finish(result.map { _ in () })
    }

    func resumeReading() { task?.resume() }

    func cancel() { task?.cancel() }
}
