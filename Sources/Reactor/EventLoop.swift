internal import CLinux
import Glibc

/// What a registered descriptor wants to hear about.
@_spi(Internals) public struct Interest: OptionSet, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let read = Interest(rawValue: 1)
    public static let write = Interest(rawValue: 2)

    var epollEvents: UInt32 {
        var events: UInt32 = 0
        if contains(.read) { events |= EPOLLIN.rawValue | EPOLLRDHUP.rawValue }
        if contains(.write) { events |= EPOLLOUT.rawValue }
        return events
    }
}

/// What epoll reported for a descriptor. `.error` (EPOLLERR/EPOLLHUP) is always reported, whatever the interest.
@_spi(Internals) public struct Readiness: OptionSet, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let read = Readiness(rawValue: 1)
    public static let write = Readiness(rawValue: 2)
    public static let error = Readiness(rawValue: 4)
}

/// An object that owns a registered descriptor and handles its readiness on the loop thread.
@_spi(Internals) public protocol IOHandler: AnyObject {
    func handleIO(_ readiness: Readiness)
}

/// Identifies a scheduled timer, to cancel it.
public struct TimerID: Hashable, Sendable {
    let raw: UInt64
}

/// A single-threaded epoll reactor: descriptors, timers and cross-thread tasks, all handled on the thread that runs
/// it. Nothing here is Sendable: other threads reach the loop only through its `handle`.
public final class EventLoop {
    /// The door other threads use: a locked task queue plus an eventfd wake-up.
    public let handle: EventLoopHandle

    private let epollFD: Int32
    private var registrations: [Int32: Registration] = [:]
    private var nextGeneration: UInt32 = 1
    private var timers = TimerQueue()
    private var callbacks: [UInt64: (Any) -> Void] = [:]
    private var nextCallbackID: UInt64 = 1
    /// Locked: the last handle on a client may be dropped on another thread once the loop refuses tasks, and its
    /// deinit then removes its hook there while the loop thread is still running the others.
    private let closeHooks = LockedValue(CloseHooks())
    private var stopRequested = false
    private var isClosed = false
    private var owner: pthread_t
    private let events: UnsafeMutablePointer<epoll_event>
    private let eventCapacity: Int32 = 128
    /// The monotonic time at the last wake-up, in nanoseconds; timers count from it.
    public private(set) var now: UInt64

    private struct Registration {
        let generation: UInt32
        var interest: Interest
        let handler: IOHandler
    }

    private static let wakeUpKey: UInt64 = UInt64(UInt32.max)

    public init() throws(ReactorError) {
        epollFD = try Sys.epollCreate()
        let wakeFD: Int32
        do {
            wakeFD = try Sys.eventFD()
        } catch {
            Sys.close(epollFD)
            throw error
        }
        do {
            try Sys.epollControl(epollFD, EPOLL_CTL_ADD, wakeFD, events: EPOLLIN.rawValue, data: Self.wakeUpKey)
        } catch {
            Sys.close(wakeFD)
            Sys.close(epollFD)
            throw error
        }
        handle = EventLoopHandle(eventFD: wakeFD)
        events = .allocate(capacity: Int(eventCapacity))
        owner = pthread_self()
        now = Sys.monotonicNanoseconds()
    }

    deinit {
        // Nothing holds the loop any more, so nothing live is registered on it (clients hold their loop); tasks other
        // threads posted since its last turn cannot run without it and are dropped.
        if !isClosed {
            isClosed = true
            _ = handle.closeEventFD()
            Sys.close(epollFD)
        }
        events.deallocate()
    }

    /// True on the thread that owns the loop (the one running it, or that created it before it ran).
    public var inLoopThread: Bool { pthread_equal(owner, pthread_self()) != 0 }

    @inline(__always)
    public func assertInLoop(_ function: StaticString = #function) {
        assert(inLoopThread, "\(function) called off the event loop's thread")
    }

    // MARK: descriptors

    /// Starts watching `fd`. The loop keeps `handler` alive until `deregister(fd)`.
    @_spi(Internals) public func register(_ fd: Int32, interest: Interest, handler: IOHandler) throws(ReactorError) {
        assertInLoop()
        precondition(registrations[fd] == nil, "fd \(fd) registered twice")
        let generation = nextGeneration
        nextGeneration = nextGeneration == UInt32.max - 1 ? 1 : nextGeneration + 1
        try Sys.epollControl(epollFD, EPOLL_CTL_ADD, fd, events: interest.epollEvents, data: key(fd, generation))
        registrations[fd] = Registration(generation: generation, interest: interest, handler: handler)
    }

    /// Changes what `fd` is watched for. Cheap when nothing changes.
    @_spi(Internals) public func setInterest(_ interest: Interest, for fd: Int32) throws(ReactorError) {
        assertInLoop()
        guard var registration = registrations[fd] else { preconditionFailure("fd \(fd) is not registered") }
        if registration.interest == interest { return }
        try Sys.epollControl(
            epollFD, EPOLL_CTL_MOD, fd, events: interest.epollEvents, data: key(fd, registration.generation))
        registration.interest = interest
        registrations[fd] = registration
    }

    @_spi(Internals) public func interest(for fd: Int32) -> Interest? { registrations[fd]?.interest }

    /// Stops watching `fd` and lets go of its handler. Events already fetched for it are dropped.
    @_spi(Internals) public func deregister(_ fd: Int32) {
        assertInLoop()
        guard registrations.removeValue(forKey: fd) != nil else { return }
        // Only fails if fd was closed before deregistering (a bug) — epoll forgets closed fds by itself anyway.
        do {
            try Sys.epollControl(epollFD, EPOLL_CTL_DEL, fd, events: 0, data: 0)
        } catch {
            assertionFailure("epoll_ctl(DEL, \(fd)): \(error)")
        }
    }

    @_spi(Internals) public var registeredCount: Int { registrations.count }

    /// What is registered, for diagnostics: `fd:Type` for each descriptor.
    @_spi(Internals) public var registeredDescription: String {
        registrations.sorted { $0.key < $1.key }.map { entry in
            let handler = entry.value.handler
            let detail = (handler as? CustomStringConvertible)?.description ?? "\(type(of: handler))"
            return "\(entry.key):\(detail)"
        }.joined(separator: ", ")
    }

    private func key(_ fd: Int32, _ generation: UInt32) -> UInt64 {
        UInt64(generation) << 32 | UInt64(UInt32(bitPattern: fd))
    }

    // MARK: timers

    /// Runs `body` on the loop after `milliseconds`, and then every `repeating` milliseconds until cancelled.
    /// Timers due at the same moment run in the order they were scheduled.
    @discardableResult
    public func scheduleTimer(
        afterMilliseconds milliseconds: Int, repeating: Int? = nil, _ body: @escaping () -> Void
    ) -> TimerID {
        assertInLoop()
        precondition(milliseconds >= 0 && (repeating ?? 1) > 0, "timer intervals must be positive")
        let deadline = Sys.monotonicNanoseconds() &+ UInt64(milliseconds) &* 1_000_000
        return timers.schedule(deadline: deadline, interval: repeating.map { UInt64($0) * 1_000_000 }, body)
    }

    /// Cancels a timer; harmless when it already fired or was cancelled.
    public func cancelTimer(_ id: TimerID) {
        assertInLoop()
        timers.cancel(id)
    }

    @_spi(Internals) public var pendingTimerCount: Int { timers.count }

    // MARK: callbacks from other threads (see LoopCallback)

    func addCallback(_ body: @escaping (Any) -> Void) -> UInt64 {
        let id = nextCallbackID
        nextCallbackID += 1
        callbacks[id] = body
        return id
    }

    func removeCallback(_ id: UInt64) { callbacks.removeValue(forKey: id) }

    func runCallback(_ id: UInt64, _ value: Any) {
        callbacks.removeValue(forKey: id)?(value)
    }

    @_spi(Internals) public var pendingCallbackCount: Int { callbacks.count }

    // MARK: running

    /// Runs the loop on the calling thread until `stop()`.
    public func run() throws(ReactorError) {
        precondition(!isClosed, "run() on a closed loop")
        owner = pthread_self()
        stopRequested = false
        while !stopRequested {
            try runOnce()
        }
    }

    /// Waits until the next timer is due, something happens, or `maxWaitMS` passes (-1: no limit), then handles
    /// what happened: I/O first, then due timers, then tasks posted from other threads.
    @_spi(Internals) public func runOnce(maxWaitMS: Int32 = -1) throws(ReactorError) {
        var timeout = timers.millisecondsUntilNext(now: Sys.monotonicNanoseconds())
        if maxWaitMS >= 0 && (timeout < 0 || maxWaitMS < timeout) { timeout = maxWaitMS }
        let count = try Sys.epollWait(epollFD, events, capacity: eventCapacity, timeoutMS: timeout)
        now = Sys.monotonicNanoseconds()
        var woken = false
        for index in 0..<count {
            let event = events[index]
            let data = event.data.u64
            if data == Self.wakeUpKey {
                woken = true
                continue
            }
            let fd = Int32(bitPattern: UInt32(truncatingIfNeeded: data))
            let generation = UInt32(truncatingIfNeeded: data >> 32)
            // A handler earlier in this batch may have closed this fd, or even reused its number.
            guard let registration = registrations[fd], registration.generation == generation else { continue }
            registration.handler.handleIO(Readiness(epoll: event.events))
        }
        let timeNow = Sys.monotonicNanoseconds()
        while let body = timers.popDue(now: timeNow) { body() }
        if woken {
            try Sys.eventFDDrain(handle.eventFD)
        }
        for task in handle.takeTasks() { task(self) }
    }

    /// Makes `run()` return after the current iteration.
    public func stop() {
        assertInLoop()
        stopRequested = true
    }

    /// Closes the loop: later tasks are refused, those already posted still run, then everything live on it (HTTP
    /// clients, FTP sessions) is closed, so that every operation in flight ends and whoever awaits it hears so. Then
    /// the loop's own descriptors are closed; descriptors still registered are their owners' to close.
    public func close() {
        assertInLoop()
        guard !isClosed else { return }
        isClosed = true
        for task in handle.closeEventFD() { task(self) }
        // A hook may end operations whose owners remove other hooks, or make new ones: take them one at a time.
        while let hook = closeHooks.withLock({ $0.takeFirst() }) { hook.body() }
        Sys.close(epollFD)
    }

    /// Runs `body` when the loop closes, unless removed first: how a client ends what is in flight on it.
    @_spi(Internals) public func addCloseHook(_ body: @escaping () -> Void) -> UInt64 {
        assertInLoop()
        return closeHooks.withLock { $0.add(CloseHook(body: body)) }
    }

    @_spi(Internals) public func removeCloseHook(_ id: UInt64) {
        closeHooks.withLock { _ = $0.hooks.removeValue(forKey: id) }
    }
}

/// @unchecked Sendable: the closure runs on the loop thread only; other threads only remove it.
private struct CloseHook: @unchecked Sendable {
    let body: () -> Void
}

private struct CloseHooks: Sendable {
    var hooks: [UInt64: CloseHook] = [:]
    var nextID: UInt64 = 1

    mutating func add(_ hook: CloseHook) -> UInt64 {
        defer { nextID += 1 }
        hooks[nextID] = hook
        return nextID
    }

    mutating func takeFirst() -> CloseHook? {
        guard let id = hooks.keys.min() else { return nil }
        return hooks.removeValue(forKey: id)
    }
}

extension Readiness {
    init(epoll events: UInt32) {
        var readiness: Readiness = []
        if events & (EPOLLIN.rawValue | EPOLLRDHUP.rawValue) != 0 { readiness.insert(.read) }
        if events & EPOLLOUT.rawValue != 0 { readiness.insert(.write) }
        if events & (EPOLLERR.rawValue | EPOLLHUP.rawValue) != 0 { readiness.insert(.error) }
        self = readiness
    }
}
