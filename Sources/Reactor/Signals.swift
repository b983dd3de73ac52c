internal import CLinux
import Glibc

/// Process-wide signal set-up, for the command-line tool only: a library installs no handlers of its own.
@_spi(Internals) public enum ProcessSignals {
    /// Blocks `signals` in the calling thread and in every thread it creates afterwards, so that a `SignalWatcher` can
    /// receive them. Call it first thing in `main`, before any thread exists (signalfd only sees signals that are
    /// blocked in every thread; PLATFORM.md).
    public static func blockForWatching(_ signals: [Int32]) throws(ReactorError) {
        try Sys.blockSignals(signals)
    }

    /// Ignores SIGPIPE process-wide. Socket sends use MSG_NOSIGNAL anyway; this covers the tool's own writes to
    /// stdout and stderr when they are a pipe whose reader went away (`web2ftp … | head`).
    public static func ignoreBrokenPipe() throws(ReactorError) {
        try Sys.ignoreSignal(SIGPIPE)
    }
}

/// Delivers blocked signals to the loop thread through a signalfd.
@_spi(Internals) public final class SignalWatcher: IOHandler {
    private let loop: EventLoop
    private var fd: Int32
    private let onSignal: (Int32) -> Void

    /// `signals` must already be blocked in every thread (`ProcessSignals.blockForWatching`).
    public init(loop: EventLoop, signals: [Int32], onSignal: @escaping (Int32) -> Void) throws(ReactorError) {
        self.loop = loop
        self.onSignal = onSignal
        fd = try Sys.signalFD(signals)
        do {
            try loop.register(fd, interest: .read, handler: self)
        } catch {
            Sys.close(fd)
            throw error
        }
    }

    public func handleIO(_ readiness: Readiness) {
        while fd >= 0 {
            let signal: Int32?
            do {
                signal = try Sys.readSignal(fd)
            } catch {
                preconditionFailure("reading the signalfd: \(error)")
            }
            guard let signal else { return }
            onSignal(signal)
        }
    }

    public func close() {
        guard fd >= 0 else { return }
        loop.deregister(fd)
        Sys.close(fd)
        fd = -1
    }
}
