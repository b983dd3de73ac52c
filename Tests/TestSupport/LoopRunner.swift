import Foundation
@_spi(Internals) import Reactor

/// Runs a scenario on a fresh event loop thread and awaits its result. The scenario gets the loop and a `done`
/// function to call once, on the loop; a watchdog fails the test if it never does. What the scenario throws while it
/// sets up (a listener that cannot bind) fails the test as `done` would.
public func onLoop<T: Sendable>(
    timeoutMS: Int = 30_000,
    _ scenario: @escaping @Sendable (EventLoop, @escaping @Sendable (Result<T, TestFailure>) -> Void) throws -> Void
) async throws -> T {
    let thread = try EventLoopThread()
    defer { thread.shutdown() }
    let result: Result<T, TestFailure> = await withCheckedContinuation { continuation in
        let once = Locked(false)
        let finish: @Sendable (Result<T, TestFailure>) -> Void = { result in
            let first = once.withLock { done in
                defer { done = true }
                return !done
            }
            if first { continuation.resume(returning: result) }
        }
        thread.handle.execute { loop in
            loop.scheduleTimer(afterMilliseconds: timeoutMS) {
                finish(.failure(TestFailure("scenario did not finish within \(timeoutMS) ms")))
            }
            do {
                try scenario(loop, finish)
            } catch {
                finish(.failure(TestFailure("\(error)")))
            }
        }
    }
    return try result.get()
}

extension EventLoop {
    /// Keeps objects alive until the loop goes away: delegates are held weakly, and a test's scenario object often
    /// has no other owner.
    public func keepAlive(_ object: AnyObject) {
        scheduleTimer(afterMilliseconds: 24 * 3600 * 1000) { _ = object }
    }
}

/// Collects a stream's events, for tests: bytes read, how it ended.
@_spi(Internals) public final class RecordingDelegate: ByteStreamDelegate {
    public var received: [UInt8] = []
    @_spi(Internals) public var end: StreamEnd?
    public var onRead: ((RecordingDelegate) -> Void)?
    @_spi(Internals) public var onEnd: ((StreamEnd) -> Void)?

    public init() {}

    @_spi(Internals) public func stream(_ stream: any ByteStream, didRead bytes: UnsafeRawBufferPointer) {
        received.append(contentsOf: bytes)
        onRead?(self)
    }

    @_spi(Internals) public func streamDidBecomeWritable(_ stream: any ByteStream) {}

    @_spi(Internals) public func stream(_ stream: any ByteStream, didEnd end: StreamEnd) {
        self.end = end
        onEnd?(end)
    }

    public var text: String { String(decoding: received, as: UTF8.self) }
}

/// A value shared between threads in tests, behind a lock.
public final class Locked<Value: Sendable>: Sendable {
    private let lock: LockedValue<Value>
    public init(_ value: Value) { lock = LockedValue(value) }
    public func withLock<R: Sendable>(_ body: (inout Value) -> R) -> R { lock.withLock { body(&$0) } }
    public var value: Value { lock.withLock { $0 } }
}

/// An object that lives on one loop's thread, carried across a test's awaits; touch it only on that thread
/// (`EventLoopThread.onLoop`).
public struct LoopBound<Object: AnyObject>: @unchecked Sendable {
    public let object: Object
    public init(_ object: Object) { self.object = object }
}

extension EventLoopThread {
    /// Runs `body` on the loop's thread and hands back its result.
    public func onLoop<T: Sendable>(_ body: @escaping @Sendable (EventLoop) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            handle.execute { loop in continuation.resume(with: Result { try body(loop) }) }
        }
    }
}

extension EventLoopThread {
    /// `onLoop` for code that must not suspend (a test already blocking its thread on a child process).
    public func onLoopBlocking<T: Sendable>(_ body: @escaping @Sendable (EventLoop) -> T) -> T {
        let result = Locked<T?>(nil)
        let done = DispatchSemaphore(value: 0)
        handle.execute { loop in
            let value = body(loop)
            result.withLock { $0 = value }
            done.signal()
        }
        done.wait()
        return result.value!
    }
}

/// Thrown by `outcome(within:_:)` when the work did not end in time.
public struct StillWaiting: Error, CustomStringConvertible {
    public let seconds: Int
    public var description: String { "still waiting after \(seconds) s: something is never resumed" }
}

/// Runs `body` in a Task of its own and returns how it ended, or throws `StillWaiting` when it has not ended within
/// `seconds`. For work that may hang on a continuation nobody resumes: a task group would wait for it for ever too.
public func outcome<T: Sendable>(
    within seconds: Int, _ body: @escaping @Sendable () async throws -> T
) async throws -> Result<T, any Error> {
    let ended = Locked<Result<T, any Error>?>(nil)
    let task = Task {
        let result: Result<T, any Error>
        do { result = .success(try await body()) } catch { result = .failure(error) }
        ended.withLock { $0 = result }
    }
    let clock = ContinuousClock()
    let deadline = clock.now + .seconds(seconds)
    while clock.now < deadline {
        if let result = ended.value { return result }
        try await Task.sleep(for: .milliseconds(10))
    }
    // This Task may itself have waited long for a thread (tests that block the pool's threads on child processes):
    // look once more before calling it a hang.
    try await Task.sleep(for: .milliseconds(100))
    if let result = ended.value { return result }
    task.cancel()
    throw StillWaiting(seconds: seconds)
}
