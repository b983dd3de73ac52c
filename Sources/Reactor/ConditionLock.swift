internal import CLinux
import Glibc

/// A pthread mutex with a condition variable, for a hand-off between threads where one side must wait for the other
/// (a worker waiting for work, a producer waiting for room). pthread's, not a futex of our own, for the reason given
/// at `LockedValue`: ThreadSanitizer understands it.
/// @unchecked Sendable: the mutex and the condition are made for sharing between threads.
@_spi(Internals) public final class ConditionLock: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>

    public init() {
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
        condition = .allocate(capacity: 1)
        condition.initialize(to: pthread_cond_t())
        pthread_cond_init(condition, nil)
    }

    deinit {
        pthread_cond_destroy(condition)
        condition.deallocate()
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    public func lock() { pthread_mutex_lock(mutex) }
    public func unlock() { pthread_mutex_unlock(mutex) }

    /// Releases the lock, sleeps until `broadcast`, takes it again. Call with the lock held, in a loop that rechecks.
    public func wait() { pthread_cond_wait(condition, mutex) }

    /// Wakes every waiter (call with the lock held).
    public func broadcast() { pthread_cond_broadcast(condition) }
}

/// Threads for work the loop hands off (see `Sys.spawnThread` for why they are made in library code).
@_spi(Internals) public enum WorkerThread {
    /// A started thread, to be joined once.
    public struct Handle: @unchecked Sendable {
        fileprivate let thread: pthread_t
    }

    /// Starts a joinable thread named `name` (≤ 15 bytes show in /proc/self/task/*/comm and `top -H`).
    public static func spawn(named name: String, _ body: @escaping @Sendable () -> Void) throws(ReactorError) -> Handle
    {
        Handle(
            thread: try Sys.spawnThread(detached: false) {
                cl_name_this_thread(name)
                body()
            })
    }

    public static func join(_ handle: Handle) { Sys.joinThread(handle.thread) }
}
