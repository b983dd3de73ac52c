import Glibc

/// A value behind a pthread mutex, for the few things threads share (the loop's task queue, a thread handle).
/// Not the standard library's `Mutex`: on Linux it locks with raw futex calls that ThreadSanitizer does not model, so
/// every access it guards is reported as a race and `scripts/sanitize.sh thread` would see nothing else;
/// pthread_mutex_lock is intercepted and understood. Uncontended, both cost about the same.
@_spi(Internals) public final class LockedValue<Value: Sendable>: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private var value: Value

    public init(_ value: Value) {
        self.value = value
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    public func withLock<Result, Failure: Error>(
        _ body: (inout Value) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }
}
