/// The only door into an event loop from other threads: a locked queue of tasks and an eventfd that wakes the loop.
/// Tasks receive the loop as their argument, so loop-bound state never has to cross threads.
public final class EventLoopHandle: Sendable {
    public typealias Task = @Sendable (EventLoop) -> Void

    private struct State {
        var tasks: [Task] = []
        /// -1 once the loop has closed: posting then fails instead of writing to a reused descriptor.
        var eventFD: Int32
    }

    private let state: LockedValue<State>
    /// Read by the loop thread only, while the loop is open.
    let eventFD: Int32

    init(eventFD: Int32) {
        self.eventFD = eventFD
        state = LockedValue(State(eventFD: eventFD))
    }

    /// Queues `task` to run on the loop thread. Returns false when the loop has already closed (the task is dropped).
    @discardableResult
    public func execute(_ task: @escaping Task) -> Bool {
        state.withLock { state in
            guard state.eventFD >= 0 else { return false }
            let wasEmpty = state.tasks.isEmpty
            state.tasks.append(task)
            // One wake-up per batch: the loop takes the whole queue each time it wakes.
            if wasEmpty {
                do {
                    try Sys.eventFDSignal(state.eventFD)
                } catch {
                    preconditionFailure("waking the event loop: \(error)")
                }
            }
            return true
        }
    }

    /// Tasks posted and not yet taken by the loop: for tests that must know a post has landed.
    @_spi(Internals) public var pendingTaskCount: Int { state.withLock { $0.tasks.count } }

    func takeTasks() -> [Task] {
        state.withLock { state in
            if state.tasks.isEmpty { return [] }
            let tasks = state.tasks
            state.tasks = []
            return tasks
        }
    }

    /// Refuses every later task and returns those posted after the loop's last turn, for the loop to run as it
    /// closes: dropping them would leave their posters (an async caller's continuation) waiting for ever.
    func closeEventFD() -> [Task] {
        state.withLock { state in
            guard state.eventFD >= 0 else { return [] }
            Sys.close(state.eventFD)
            state.eventFD = -1
            defer { state.tasks = [] }
            return state.tasks
        }
    }
}
