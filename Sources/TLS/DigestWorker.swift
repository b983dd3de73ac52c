import Glibc
@_spi(Internals) import Reactor

/// Where an upload's SHA-256 runs.
@_spi(Internals) public enum DigestMode: Equatable, Sendable {
    /// On the loop thread, as the bytes pass: with one CPU a second thread would only add hand-offs.
    case inline
    /// On the process's digest thread, beside the transfer.
    case threaded

    /// Threaded only when the process may run on more than one CPU: more than one in its affinity mask, and a cgroup
    /// quota (if any) above one CPU.
    public static func choose(cores: Int, quotaCPUs: Double?) -> DigestMode {
        guard cores > 1 else { return .inline }
        if let quotaCPUs, quotaCPUs <= 1 { return .inline }
        return .threaded
    }

    public static let current = choose(cores: CPUBudget.current.cores, quotaCPUs: CPUBudget.current.quotaCPUs)
}

/// One digest's state as the worker sees it: the hash context, and how many of its chunks wait in the ring.
/// @unchecked Sendable: `sha` is touched by the worker while `pending` > 0 and by the owner only once it has seen
/// `pending` == 0 under the worker's lock; `pending` itself only under that lock.
final class DigestLane: @unchecked Sendable {
    var sha: SHA256
    var pending = 0

    init(sha: SHA256 = SHA256()) { self.sha = sha }
}

/// The process's digest thread: hashes chunks that transfers hand it, in order per digest, through a fixed ring of
/// chunk buffers. A transfer whose chunk finds the ring full waits for a free slot — memory stays bounded however
/// far the hasher falls behind. One thread for the process, running only while some digest uses it: parallel
/// transfers share one loop thread, so a second hasher per transfer would only compete for the same spare CPU.
/// @unchecked Sendable: every field below `lock` is guarded by it; a slot's buffer is written by a producer before it
/// is published and read by the worker until it gives the slot back, both under the lock's ordering.
@_spi(Internals) public final class DigestWorker: @unchecked Sendable {
    public static let shared = DigestWorker()
    /// How the thread shows in /proc/self/task/*/comm (the leak check counts it there).
    public static let threadName = "w2f-sha256"

    struct Slot {
        var lane: DigestLane?
        var bytes: UnsafeRawBufferPointer?
    }

    let slotCount: Int
    let slotSize: Int
    private let lock = ConditionLock()
    /// Serialises starting and stopping the thread, so that a new one never starts while the old one exits.
    private let lifecycle = ConditionLock()
    private var users = 0
    private var stopping = false
    private var thread: WorkerThread.Handle?
    private var storage: UnsafeMutableRawPointer?
    private var slots: [Slot]
    private var head = 0
    private var count = 0
    /// Threads waiting on the condition: wake-ups (a futex call each) only when someone sleeps.
    private var sleepers = 0

    /// 4 × 256 KiB: a few reads in flight, 1 MiB held only while the thread runs.
    public init(slotCount: Int = 4, slotSize: Int = 256 * 1024) {
        self.slotCount = slotCount
        self.slotSize = slotSize
        slots = Array(repeating: Slot(), count: slotCount)
    }

    /// Whether the thread runs now (for tests).
    public var isRunning: Bool {
        lock.lock()
        defer { lock.unlock() }
        return thread != nil
    }

    /// A digest starts using the worker; the first starts the thread. False when no thread could be made.
    func acquire() -> Bool {
        lifecycle.lock()
        defer { lifecycle.unlock() }
        lock.lock()
        users += 1
        let start = thread == nil
        lock.unlock()
        guard start else { return true }
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: slotCount * slotSize, alignment: 64)
        lock.lock()
        storage = buffer
        lock.unlock()
        do {
            let started = try WorkerThread.spawn(named: Self.threadName) { [self] in run() }
            lock.lock()
            thread = started
            lock.unlock()
            return true
        } catch {
            lock.lock()
            users -= 1
            storage = nil
            lock.unlock()
            buffer.deallocate()
            return false
        }
    }

    /// A digest is done with the worker; the last one stops the thread once the ring is empty, and waits for it.
    func release() {
        lifecycle.lock()
        defer { lifecycle.unlock() }
        lock.lock()
        users -= 1
        guard users == 0, let running = thread else { return lock.unlock() }
        stopping = true
        wake()
        lock.unlock()
        WorkerThread.join(running)
        lock.lock()
        thread = nil
        stopping = false
        let buffer = storage
        storage = nil
        lock.unlock()
        buffer?.deallocate()
    }

    /// Copies `bytes` into the ring for `lane`, waiting for free slots when the hasher is behind.
    func submit(_ bytes: UnsafeRawBufferPointer, to lane: DigestLane) {
        var rest = bytes
        lock.lock()
        defer { lock.unlock() }
        while !rest.isEmpty {
            while count == slotCount { sleep() }
            let index = (head + count) % slotCount
            let target = storage! + index * slotSize
            let length = min(rest.count, slotSize)
            target.copyMemory(from: rest.baseAddress!, byteCount: length)
            enqueue(index, lane, UnsafeRawBufferPointer(start: target, count: length))
            rest = UnsafeRawBufferPointer(rebasing: rest[length...])
        }
    }

    /// Hashes `bytes` for `lane` on the worker while `work` runs here, from the caller's own buffer: no copy. Returns
    /// when both are done, so the buffer is free again.
    func hashAlongside(_ bytes: UnsafeRawBufferPointer, to lane: DigestLane, _ work: () -> Void) {
        lock.lock()
        while count == slotCount { sleep() }
        enqueue((head + count) % slotCount, lane, bytes)
        lock.unlock()
        work()
        drain(lane)
    }

    /// Waits until the worker has hashed every chunk of `lane`.
    func drain(_ lane: DigestLane) {
        lock.lock()
        while lane.pending > 0 { sleep() }
        lock.unlock()
    }

    /// With the lock held.
    private func enqueue(_ index: Int, _ lane: DigestLane, _ bytes: UnsafeRawBufferPointer) {
        slots[index] = Slot(lane: lane, bytes: bytes)
        count += 1
        lane.pending += 1
        wake()
    }

    /// With the lock held: waits for a change.
    private func sleep() {
        sleepers += 1
        lock.wait()
        sleepers -= 1
    }

    /// With the lock held.
    private func wake() {
        if sleepers > 0 { lock.broadcast() }
    }

    private func run() {
        while true {
            lock.lock()
            while count == 0 && !stopping { sleep() }
            if count == 0 {
                lock.unlock()
                return
            }
            let slot = slots[head]
            lock.unlock()
            slot.lane!.sha.update(slot.bytes!)
            lock.lock()
            slots[head] = Slot()
            head = (head + 1) % slotCount
            count -= 1
            slot.lane!.pending -= 1
            wake()
            lock.unlock()
        }
    }
}

/// An upload's SHA-256 (of the bytes sent, so the published file can be checked against it): inline for the first
/// MiB — a small file never wakes a thread — then, in `.threaded` mode, on the digest worker beside the transfer.
/// The digest is the same either way. Loop-thread only.
@_spi(Internals) public final class TransferDigest {
    /// Bytes hashed inline before the worker takes over.
    public static let handOffAfter = 1 << 20

    private let mode: DigestMode
    private let worker: DigestWorker
    private let lane: DigestLane
    private var inlineBytes = 0
    private var handedOff = false
    private var done = false

    /// `resumingFrom`: the state of a checkpoint (`snapshot()`), for an upload that goes on after the bytes it
    /// covers.
    public init(mode: DigestMode = .current, worker: DigestWorker = .shared, resumingFrom state: SHA256? = nil) {
        self.mode = mode
        self.worker = worker
        lane = DigestLane(sha: state?.snapshot() ?? SHA256())
    }

    deinit {
        if handedOff && !done { worker.release() }
    }

    /// Whether the worker hashes now (for tests and figures).
    public var isThreaded: Bool { handedOff }

    private func useWorker(for count: Int) -> Bool {
        if handedOff { return true }
        guard mode == .threaded, !done else { return false }
        inlineBytes += count
        guard inlineBytes > Self.handOffAfter else { return false }
        handedOff = worker.acquire()
        return handedOff
    }

    /// Hashes `bytes`; threaded, a copy of them goes to the worker and this returns at once (unless the ring is full).
    public func update(_ bytes: UnsafeRawBufferPointer) {
        guard !bytes.isEmpty else { return }
        if useWorker(for: bytes.count) {
            worker.submit(bytes, to: lane)
        } else {
            lane.sha.update(bytes)
        }
    }

    /// Hashes `bytes` while `work` (which reads them too: the send) runs, without copying them; returns when both
    /// are done.
    public func update(_ bytes: UnsafeRawBufferPointer, alongside work: () -> Void) {
        guard !bytes.isEmpty else { return work() }
        if useWorker(for: bytes.count) {
            worker.hashAlongside(bytes, to: lane, work)
        } else {
            lane.sha.update(bytes)
            work()
        }
    }

    /// A copy of the state over every byte given so far (waits for the worker to catch up): a checkpoint a
    /// resumed upload can go on from.
    public func snapshot() -> SHA256 {
        precondition(!done, "TransferDigest.snapshot() after hexDigest()")
        if handedOff { worker.drain(lane) }
        return lane.sha.snapshot()
    }

    /// The digest as 64 lower-case hex digits. Ends the computation (call once).
    public func hexDigest() -> String {
        precondition(!done, "TransferDigest.hexDigest() called twice")
        done = true
        if handedOff {
            worker.drain(lane)
            worker.release()
        }
        return lane.sha.hexDigest()
    }
}
