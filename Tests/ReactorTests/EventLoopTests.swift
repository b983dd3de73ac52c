import Foundation
@_spi(Internals) import Reactor
import Synchronization
@_spi(Internals) import TestSupport
import Testing

@Suite("Event loop: timers and cross-thread tasks")
struct EventLoopTests {
    @Test("timers fire in deadline order, ties in scheduling order, cancelled ones never")
    func timersFireInDeadlineOrder() async throws {
        let order: [String] = try await onLoop { loop, done in
            var fired: [String] = []
            loop.scheduleTimer(afterMilliseconds: 60) { fired.append("60") }
            loop.scheduleTimer(afterMilliseconds: 20) { fired.append("20a") }
            let cancelled = loop.scheduleTimer(afterMilliseconds: 30) { fired.append("cancelled") }
            loop.scheduleTimer(afterMilliseconds: 40) { fired.append("40") }
            loop.scheduleTimer(afterMilliseconds: 20) { fired.append("20b") }
            loop.scheduleTimer(afterMilliseconds: 0) { fired.append("0") }
            loop.cancelTimer(cancelled)
            loop.scheduleTimer(afterMilliseconds: 100) { done(.success(fired)) }
        }
        #expect(order == ["0", "20a", "20b", "40", "60"])
    }

    @Test("a timer fires no earlier than its deadline")
    func timerWaitsForDeadline() async throws {
        let elapsed: UInt64 = try await onLoop { loop, done in
            let start = DispatchTime.now().uptimeNanoseconds
            loop.scheduleTimer(afterMilliseconds: 50) {
                done(.success((DispatchTime.now().uptimeNanoseconds - start) / 1_000_000))
            }
        }
        #expect(elapsed >= 50)
    }

    @Test("a repeating timer fires until cancelled, and a timer can cancel another from its body")
    func repeatingTimer() async throws {
        let (ticks, pending): (Int, Int) = try await onLoop { loop, done in
            let baseline = loop.pendingTimerCount  // the test's watchdog
            var ticks = 0
            var id: TimerID?
            // The report is scheduled from the fifth tick, not at a fixed time: on a loaded machine the loop may
            // wake late, and a fixed deadline then lands after fewer ticks.
            id = loop.scheduleTimer(afterMilliseconds: 5, repeating: 5) {
                ticks += 1
                guard ticks == 5, let id else { return }
                loop.cancelTimer(id)
                loop.scheduleTimer(afterMilliseconds: 30) { done(.success((ticks, loop.pendingTimerCount - baseline))) }
            }
        }
        #expect(ticks == 5)
        #expect(pending == 0)
    }

    @Test("thousands of timers scheduled and cancelled leave nothing behind")
    func manyCancelledTimers() async throws {
        let pending: Int = try await onLoop { loop, done in
            let baseline = loop.pendingTimerCount  // the test's watchdog
            for round in 0..<5000 {
                let id = loop.scheduleTimer(afterMilliseconds: 10_000 + round) {}
                loop.cancelTimer(id)
            }
            done(.success(loop.pendingTimerCount - baseline))
        }
        #expect(pending == 0)
    }

    @Test("tasks posted from other threads run on the loop thread, all of them")
    func crossThreadWakeUps() async throws {
        let thread = try EventLoopThread()
        defer { thread.shutdown() }
        let counts = Locked([0, 0])  // on the loop thread, off it
        let posters = 8
        let perPoster = 2000
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<posters {
                group.addTask {
                    for _ in 0..<perPoster {
                        thread.handle.execute { loop in
                            let inLoop = loop.inLoopThread
                            counts.withLock { $0[inLoop ? 0 : 1] += 1 }
                        }
                    }
                }
            }
        }
        // A last task, posted after all others, tells us the queue has drained.
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            thread.handle.execute { _ in continuation.resume() }
        }
        let final = counts.value
        #expect(final[0] == posters * perPoster)
        #expect(final[1] == 0)
    }

    @Test("a loop callback fulfilled on another thread runs on the loop, once")
    func loopCallbackFromWorker() async throws {
        let result: [Int] = try await onLoop { loop, done in
            var seen: [Int] = []
            let callback = loop.makeCallback { (value: Int) in
                precondition(loop.inLoopThread)
                seen.append(value)
            }
            Thread.detachNewThread { callback.fulfill(7) }
            loop.scheduleTimer(afterMilliseconds: 100) { done(.success(seen)) }
        }
        #expect(result == [7])
    }

    @Test("a loop callback fulfilled a second time is an assertion failure, not a silent no-op")
    func loopCallbackTwice() async {
        await #expect(processExitsWith: .failure) {
            let thread = try EventLoopThread()
            let made = LockedValue<LoopCallback<Int>?>(nil)
            let ready = DispatchSemaphore(value: 0)
            thread.handle.execute { loop in
                made.withLock { $0 = loop.makeCallback { (_: Int) in } }
                ready.signal()
            }
            ready.wait()
            let callback = made.withLock { $0 }!
            callback.fulfill(1)
            callback.fulfill(2)
        }
    }

    @Test("a loop callback fulfilled after its owner cancelled it does nothing")
    func loopCallbackAfterCancel() async throws {
        let result: [Int] = try await onLoop { loop, done in
            var seen: [Int] = []
            let callback = loop.makeCallback { (value: Int) in seen.append(value) }
            loop.cancelCallback(callback)
            Thread.detachNewThread { callback.fulfill(7) }
            loop.scheduleTimer(afterMilliseconds: 100) { done(.success(seen)) }
        }
        #expect(result == [])
    }

    @Test("posting to a closed loop is refused rather than lost silently")
    func postToClosedLoop() throws {
        let thread = try EventLoopThread()
        thread.shutdown()
        #expect(thread.handle.execute { _ in } == false)
    }
}
