/// A timer for a wall-clock moment (a daily schedule), not an interval: it fires when CLOCK_REALTIME reaches the
/// given Unix time, also after a suspend, and tells its owner when the clock is stepped so that the moment can be
/// worked out again. The loop's own timers are monotonic and right for timeouts, not for "at 22:23".
@_spi(Internals) public final class WallClockTimer: IOHandler {
    public enum Event {
        case fired
        /// The system clock was set: recompute the next moment and `arm` again.
        case clockChanged
    }

    private let loop: EventLoop
    private var fd: Int32
    private let handler: (Event) -> Void

    public init(loop: EventLoop, handler: @escaping (Event) -> Void) throws(ReactorError) {
        self.loop = loop
        self.handler = handler
        fd = try Sys.wallClockTimer()
        try Sys.setUp(&fd) { (fd) throws(ReactorError) in try loop.register(fd, interest: .read, handler: self) }
    }

    deinit { if fd >= 0 { Sys.close(fd) } }

    public func arm(atUnixTime seconds: Int64) throws(ReactorError) {
        try Sys.armWallClockTimer(fd, at: seconds)
    }

    public func handleIO(_ readiness: Readiness) {
        guard fd >= 0 else { return }
        let result: Bool?
        do {
            result = try Sys.readTimer(fd)
        } catch {
            return
        }
        switch result {
        case true?: handler(.fired)
        case false?: handler(.clockChanged)
        case nil: break
        }
    }

    public func close() {
        guard fd >= 0 else { return }
        loop.deregister(fd)
        Sys.close(fd)
        fd = -1
    }
}
