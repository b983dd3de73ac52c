/// A loop-bound callback that another thread can trigger: the closure stays on the loop, only a number and the value
/// cross threads. Fulfilling it a second time is a programming error (asserted: a continuation behind it would be
/// resumed twice, or a caller would wait for an answer that already went); fulfilling it after it was cancelled does
/// nothing (the resolver answers after its owner timed out).
public struct LoopCallback<Value: Sendable>: Sendable {
    let id: UInt64
    let handle: EventLoopHandle
    /// Shared by the copies of this callback, so that any of them fulfilling again is caught.
    private let fulfilled = LockedValue(false)

    init(id: UInt64, handle: EventLoopHandle) {
        self.id = id
        self.handle = handle
    }

    /// Runs the callback on its loop with `value`. Returns false when the loop has already closed.
    @discardableResult
    public func fulfill(_ value: Value) -> Bool {
        let first = fulfilled.withLock { done in
            defer { done = true }
            return !done
        }
        assert(first, "LoopCallback fulfilled a second time")
        guard first else { return false }
        let id = id
        return handle.execute { loop in loop.runCallback(id, value) }
    }
}

extension EventLoop {
    /// Registers `body` to run on this loop when the returned callback is fulfilled from any thread.
    public func makeCallback<Value: Sendable>(_ body: @escaping (Value) -> Void) -> LoopCallback<Value> {
        assertInLoop()
        let id = addCallback { value in body(value as! Value) }
        return LoopCallback(id: id, handle: handle)
    }

    /// Forgets a callback that is no longer wanted (its owner timed out, say); a later fulfil is ignored.
    public func cancelCallback<Value>(_ callback: LoopCallback<Value>) {
        assertInLoop()
        removeCallback(callback.id)
    }
}
