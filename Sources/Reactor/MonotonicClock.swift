import Glibc

/// Time for code above the reactor: monotonic for intervals and timeouts, wall clock for dates.
@_spi(Internals) public enum MonotonicClock {
    public static func monotonicNanoseconds() -> UInt64 { Sys.monotonicNanoseconds() }

    /// Seconds since the Unix epoch (UTC), from CLOCK_REALTIME.
    public static func unixSeconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec)
    }

    /// Milliseconds since the Unix epoch (UTC), from CLOCK_REALTIME.
    public static func unixMilliseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
    }
}
