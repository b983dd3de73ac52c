import Glibc

/// An event loop running on a thread of its own, for embedders and tests that do not want to give up their thread.
public final class EventLoopThread: Sendable {
    public let handle: EventLoopHandle
    private let thread: LockedValue<pthread_t?>

    /// Carries the new loop to its thread. @unchecked: the creating thread never touches the loop after handing it
    /// over; from then on only the new thread uses it.
    private struct Transfer: @unchecked Sendable {
        let loop: EventLoop
    }

    /// Creates a loop and starts running it on a new thread.
    public init() throws(ReactorError) {
        let loop = try EventLoop()
        handle = loop.handle
        let transfer = Transfer(loop: loop)
        thread = LockedValue(nil)
        let started = try Sys.spawnThread(detached: false) {
            let loop = transfer.loop
            do {
                try loop.run()
            } catch {
                preconditionFailure("event loop thread: \(error)")
            }
            loop.close()
        }
        thread.withLock { $0 = started }
    }

    /// Stops the loop, waits for its thread to end and closes the loop. Idempotent.
    public func shutdown() {
        guard
            let running = thread.withLock({ state -> pthread_t? in
                defer { state = nil }
                return state
            })
        else { return }
        handle.execute { $0.stop() }
        if pthread_equal(running, pthread_self()) != 0 {
            // Released from a task on its own loop: it cannot wait for itself; the loop stops after this task.
            pthread_detach(running)
        } else {
            Sys.joinThread(running)
        }
    }

    deinit { shutdown() }
}
