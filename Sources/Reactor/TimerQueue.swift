/// The loop's timers: a binary min-heap of deadlines with lazy cancellation. Ties break by scheduling order, so two
/// timers due at the same moment fire in the order they were scheduled.
struct TimerQueue {
    private struct Entry {
        let deadline: UInt64
        let id: UInt64

        func fires(before other: Entry) -> Bool {
            deadline != other.deadline ? deadline < other.deadline : id < other.id
        }
    }

    private struct Timer {
        var deadline: UInt64
        let interval: UInt64?
        let body: () -> Void
    }

    private var heap: [Entry] = []
    private var live: [UInt64: Timer] = [:]
    private var nextID: UInt64 = 1

    var count: Int { live.count }

    mutating func schedule(deadline: UInt64, interval: UInt64?, _ body: @escaping () -> Void) -> TimerID {
        let id = nextID
        nextID += 1
        live[id] = Timer(deadline: deadline, interval: interval, body: body)
        push(Entry(deadline: deadline, id: id))
        return TimerID(raw: id)
    }

    mutating func cancel(_ id: TimerID) {
        live.removeValue(forKey: id.raw)
        // The heap entry stays until it surfaces; keep the heap from filling with dead entries when many timers are
        // cancelled long before their deadline (idle timeouts reset on every read).
        if heap.count > 64 && heap.count > 4 * live.count { compact() }
    }

    /// How long epoll may sleep: -1 with no timers, otherwise the time to the next deadline rounded up to whole
    /// milliseconds (rounding down would wake early and spin).
    mutating func millisecondsUntilNext(now: UInt64) -> Int32 {
        dropDeadEntries()
        guard let first = heap.firstEntry else { return -1 }
        if first.deadline <= now { return 0 }
        let milliseconds = (first.deadline - now + 999_999) / 1_000_000
        return Int32(clamping: milliseconds)
    }

    /// Takes the next timer due by `now`, rescheduling it first if it repeats. The loop calls the body outside this
    /// struct's mutation, because a body may schedule or cancel timers. A timer scheduled meanwhile gets a deadline
    /// after `now` (the clock moved on), so even a zero delay waits for the next round: a timer that reschedules
    /// itself cannot starve I/O.
    mutating func popDue(now: UInt64) -> (() -> Void)? {
        while let first = heap.firstEntry, first.deadline <= now {
            popFirst()
            guard var timer = live[first.id], timer.deadline == first.deadline else { continue }
            if let interval = timer.interval {
                // A repeating timer that fell behind skips the missed beats instead of firing in a burst.
                var next = timer.deadline &+ interval
                if next <= now { next = now &+ interval }
                timer.deadline = next
                live[first.id] = timer
                push(Entry(deadline: next, id: first.id))
            } else {
                live.removeValue(forKey: first.id)
            }
            return timer.body
        }
        return nil
    }

    private mutating func dropDeadEntries() {
        while let first = heap.firstEntry, live[first.id]?.deadline != first.deadline { popFirst() }
    }

    private mutating func compact() {
        let kept = heap.filter { live[$0.id]?.deadline == $0.deadline }
        heap.removeAll(keepingCapacity: true)
        for entry in kept { push(entry) }
    }

    private mutating func push(_ entry: Entry) {
        heap.append(entry)
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].fires(before: heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func popFirst() {
        let last = heap.removeLast()
        guard !heap.isEmpty else { return }
        heap[0] = last
        var parent = 0
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var smallest = parent
            if left < heap.count && heap[left].fires(before: heap[smallest]) { smallest = left }
            if right < heap.count && heap[right].fires(before: heap[smallest]) { smallest = right }
            if smallest == parent { return }
            heap.swapAt(parent, smallest)
            parent = smallest
        }
    }
}

extension Array {
    /// `first` without `Collection`'s generic path, which unoptimised builds run through an allocated coroutine frame
    /// on every loop turn.
    fileprivate var firstEntry: Element? { isEmpty ? nil : self[0] }
}
