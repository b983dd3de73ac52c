internal import CLinux
import Glibc

/// The outcome of a nonblocking call: it did its work, or the kernel said "not now". "Not now" is a value, not an
/// error, because it happens on every hot-path read and write (see STYLE.md: no throw/catch per EAGAIN).
@_spi(Internals) public enum IOResult<Value> {
    case processed(Value)
    case wouldBlock
}

extension IOResult: Equatable where Value: Equatable {}
extension IOResult: Sendable where Value: Sendable {}

/// Every system call the engine makes, in one place. Policy: EINTR is retried here; EAGAIN/EWOULDBLOCK becomes
/// `.wouldBlock` where a call can block; any other errno becomes `ReactorError.syscall` naming the call.
enum Sys {
    @inline(__always)
    static func call<T: FixedWidthInteger>(_ name: String, _ body: () -> T) throws(ReactorError) -> T {
        while true {
            let result = body()
            if result != -1 { return result }
            let code = errno
            if code == EINTR { continue }
            throw .syscall(name, errno: code)
        }
    }

    @inline(__always)
    static func nonBlocking<T: FixedWidthInteger>(
        _ name: String, _ body: () -> T
    ) throws(ReactorError) -> IOResult<T> {
        while true {
            let result = body()
            if result != -1 { return .processed(result) }
            let code = errno
            if code == EINTR { continue }
            if code == EAGAIN || code == EWOULDBLOCK { return .wouldBlock }
            throw .syscall(name, errno: code)
        }
    }

    // MARK: file descriptors

    /// close(2) is never retried: on Linux the descriptor is gone even when EINTR is reported. EBADF means two owners
    /// closed the same descriptor, which is a bug, not a runtime condition.
    static func close(_ fd: Int32) {
        let result = Glibc.close(fd)
        if result == -1 {
            precondition(errno != EBADF, "close(\(fd)): descriptor was not open (closed twice?)")
        }
    }

    /// Sets up a descriptor just opened into `fd` by an owner whose deinit closes it. When `body` throws, the
    /// descriptor is closed here and `fd` left at -1: a class whose init throws once every property is set still
    /// runs its deinit, which must not close it again.
    static func setUp<T>(_ fd: inout Int32, _ body: (Int32) throws(ReactorError) -> T) throws(ReactorError) -> T {
        do {
            return try body(fd)
        } catch {
            close(fd)
            fd = -1
            throw error
        }
    }

    static func read(_ fd: Int32, _ buffer: UnsafeMutableRawBufferPointer) throws(ReactorError) -> IOResult<Int> {
        try nonBlocking("read") { Glibc.read(fd, buffer.baseAddress, buffer.count) }
    }

    /// send(2) with MSG_NOSIGNAL, so a peer that went away gives EPIPE instead of killing the process with SIGPIPE.
    static func send(_ fd: Int32, _ buffer: UnsafeRawBufferPointer) throws(ReactorError) -> IOResult<Int> {
        try nonBlocking("send") { Glibc.send(fd, buffer.baseAddress, buffer.count, Int32(MSG_NOSIGNAL)) }
    }

    // MARK: files (the log, the lock, `get`'s output, the config): blocking calls, off the hot path

    /// open(2), always O_CLOEXEC.
    static func open(_ path: String, flags: Int32, permissions: mode_t) throws(ReactorError) -> Int32 {
        try FileFaults.check(.open, path: path)
        return try call("open") { Glibc.open(path, flags | O_CLOEXEC, permissions) }
    }

    /// write(2) of as much as the kernel takes (a regular file or a device: it blocks rather than saying EAGAIN).
    static func write(_ fd: Int32, path: String, _ buffer: UnsafeRawBufferPointer) throws(ReactorError) -> Int {
        try FileFaults.check(.write, path: path)
        return try call("write") { Glibc.write(fd, buffer.baseAddress, buffer.count) }
    }

    static func read(_ fd: Int32, path: String, _ buffer: UnsafeMutableRawBufferPointer) throws(ReactorError) -> Int {
        try FileFaults.check(.read, path: path)
        return try call("read") { Glibc.read(fd, buffer.baseAddress, buffer.count) }
    }

    static func pread(
        _ fd: Int32, _ buffer: UnsafeMutableRawBufferPointer, at offset: Int
    ) throws(ReactorError) -> Int {
        try call("pread") { Glibc.pread(fd, buffer.baseAddress, buffer.count, off_t(offset)) }
    }

    static func truncate(_ fd: Int32) throws(ReactorError) {
        _ = try call("ftruncate") { ftruncate(fd, 0) }
    }

    /// flock(LOCK_EX | LOCK_NB), or LOCK_SH when `shared`: false when another open file description holds a lock
    /// that conflicts (any lock for an exclusive one, an exclusive one for a shared one).
    static func tryLock(_ fd: Int32, shared: Bool = false) throws(ReactorError) -> Bool {
        switch try nonBlocking("flock", { flock(fd, (shared ? LOCK_SH : LOCK_EX) | LOCK_NB) }) {
        case .processed: return true
        case .wouldBlock: return false
        }
    }

    /// close(2) where the outcome matters (a file just written: NFS and some file systems report write errors
    /// only here). Not retried, as `close`.
    static func closeReporting(_ fd: Int32) throws(ReactorError) {
        if Glibc.close(fd) == -1 {
            let code = errno
            precondition(code != EBADF, "close(\(fd)): descriptor was not open (closed twice?)")
            if code != EINTR { throw .syscall("close", errno: code) }
        }
    }

    static func fsync(_ fd: Int32) throws(ReactorError) {
        _ = try call("fsync") { Glibc.fsync(fd) }
    }

    /// mkdir(2); an existing directory is not an error.
    static func makeDirectory(_ path: String, permissions: mode_t) throws(ReactorError) {
        if Glibc.mkdir(path, permissions) == -1 && errno != EEXIST { throw .syscall("mkdir", errno: errno) }
    }

    static func rename(_ from: String, to: String) throws(ReactorError) {
        _ = try call("rename") { Glibc.rename(from, to) }
    }

    static func unlink(_ path: String) throws(ReactorError) {
        _ = try call("unlink") { Glibc.unlink(path) }
    }

    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    static func permissions(_ path: String) -> UInt32? {
        var status = stat()
        guard stat(path, &status) == 0 else { return nil }
        return UInt32(status.st_mode) & 0o7777
    }

    static func environment(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }

    /// stat(2) of `path` (links followed), nil when it cannot be had.
    static func status(_ path: String) -> stat? {
        var result = stat()
        return stat(path, &result) == 0 ? result : nil
    }

    /// Whether any entry of `directory` passes `test`; nil when the directory cannot be read. Stops at the first.
    static func directoryContains(_ directory: String, where test: (UnsafePointer<CChar>) -> Bool) -> Bool? {
        guard let handle = opendir(directory) else { return nil }
        defer { closedir(handle) }
        while let entry = readdir(handle) {
            let found = withUnsafePointer(to: &entry.pointee.d_name) { name in
                name.withMemoryRebound(to: CChar.self, capacity: 256) { test($0) }
            }
            if found { return true }
        }
        return false
    }

    // MARK: epoll, eventfd, signalfd

    static func epollCreate() throws(ReactorError) -> Int32 {
        try call("epoll_create1") { epoll_create1(Int32(EPOLL_CLOEXEC)) }
    }

    static func epollControl(
        _ epfd: Int32, _ op: Int32, _ fd: Int32, events: UInt32, data: UInt64
    ) throws(ReactorError) {
        var event = epoll_event()
        event.events = events
        event.data.u64 = data
        _ = try call("epoll_ctl") { epoll_ctl(epfd, op, fd, &event) }
    }

    /// epoll_wait(2). An interrupted wait reports no events: the loop recomputes its timeout and waits again.
    static func epollWait(
        _ epfd: Int32, _ events: UnsafeMutablePointer<epoll_event>, capacity: Int32, timeoutMS: Int32
    ) throws(ReactorError) -> Int {
        let result = epoll_wait(epfd, events, capacity, timeoutMS)
        if result == -1 {
            let code = errno
            if code == EINTR { return 0 }
            throw .syscall("epoll_wait", errno: code)
        }
        return Int(result)
    }

    static func eventFD() throws(ReactorError) -> Int32 {
        try call("eventfd") { eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC)) }
    }

    /// Adds one to an eventfd counter. A full counter (EAGAIN) already means "wake up", so it is not an error.
    static func eventFDSignal(_ fd: Int32) throws(ReactorError) {
        var one: UInt64 = 1
        _ = try nonBlocking("write(eventfd)") { Glibc.write(fd, &one, 8) }
    }

    static func eventFDDrain(_ fd: Int32) throws(ReactorError) {
        var value: UInt64 = 0
        _ = try nonBlocking("read(eventfd)") { Glibc.read(fd, &value, 8) }
    }

    static func signalFD(_ signals: [Int32]) throws(ReactorError) -> Int32 {
        var set = sigset_t()
        sigemptyset(&set)
        for signal in signals { sigaddset(&set, signal) }
        return try call("signalfd") { signalfd(-1, &set, Int32(SFD_NONBLOCK | SFD_CLOEXEC)) }
    }

    /// Reads one pending signal from a signalfd, or nil when none is pending.
    static func readSignal(_ fd: Int32) throws(ReactorError) -> Int32? {
        var info = signalfd_siginfo()
        let size = MemoryLayout<signalfd_siginfo>.size
        switch try nonBlocking("read(signalfd)", { Glibc.read(fd, &info, size) }) {
        case .wouldBlock: return nil
        case .processed(let count):
            precondition(count == size, "signalfd returned a partial record")
            return Int32(bitPattern: info.ssi_signo)
        }
    }

    static func blockSignals(_ signals: [Int32]) throws(ReactorError) {
        var set = sigset_t()
        sigemptyset(&set)
        for signal in signals { sigaddset(&set, signal) }
        let result = pthread_sigmask(SIG_BLOCK, &set, nil)
        if result != 0 { throw .syscall("pthread_sigmask", errno: result) }
    }

    static func ignoreSignal(_ signal: Int32) throws(ReactorError) {
        var action = sigaction()
        action.__sigaction_handler.sa_handler = SIG_IGN
        sigemptyset(&action.sa_mask)
        _ = try call("sigaction") { sigaction(signal, &action, nil) }
    }

    // MARK: time

    static func wallClockTimer() throws(ReactorError) -> Int32 {
        try call("timerfd_create") { timerfd_create(CLOCK_REALTIME, Int32(TFD_NONBLOCK | TFD_CLOEXEC)) }
    }

    /// Arms a CLOCK_REALTIME timerfd for an absolute Unix time; TFD_TIMER_CANCEL_ON_SET makes a clock step (or the
    /// time being set) wake it with ECANCELED, so that the next wall-clock time can be worked out again.
    static func armWallClockTimer(_ fd: Int32, at unixSeconds: Int64) throws(ReactorError) {
        var spec = itimerspec()
        spec.it_value.tv_sec = Int(unixSeconds)
        let flags = Int32(TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET)
        _ = try call("timerfd_settime") { timerfd_settime(fd, flags, &spec, nil) }
    }

    /// Reads a timerfd: true when it expired, false when the clock was changed under it (ECANCELED), nil when not
    /// ready.
    static func readTimer(_ fd: Int32) throws(ReactorError) -> Bool? {
        var expirations: UInt64 = 0
        while true {
            if Glibc.read(fd, &expirations, 8) == 8 { return true }
            let code = errno
            if code == EINTR { continue }
            if code == EAGAIN { return nil }
            if code == ECANCELED { return false }
            throw .syscall("read(timerfd)", errno: code)
        }
    }

    static func monotonicNanoseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) &* 1_000_000_000 &+ UInt64(now.tv_nsec)
    }

    // MARK: sockets

    static func socket(family: Int32) throws(ReactorError) -> Int32 {
        let type = Int32(SOCK_STREAM.rawValue | SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue)
        return try call("socket") { Glibc.socket(family, type, 0) }
    }

    static func setOption(_ fd: Int32, level: Int32, name: Int32, value: Int32, label: String) throws(ReactorError) {
        var value = value
        _ = try call("setsockopt(\(label))") {
            setsockopt(fd, level, name, &value, socklen_t(MemoryLayout<Int32>.size))
        }
    }

    /// SO_LINGER with a zero timeout: close(2) then sends RST instead of FIN.
    static func setAbortiveClose(_ fd: Int32) throws(ReactorError) {
        var value = linger(l_onoff: 1, l_linger: 0)
        _ = try call("setsockopt(SO_LINGER)") {
            setsockopt(fd, SOL_SOCKET, SO_LINGER, &value, socklen_t(MemoryLayout<linger>.size))
        }
    }

    static func setNoDelay(_ fd: Int32) throws(ReactorError) {
        try setOption(fd, level: Int32(IPPROTO_TCP), name: TCP_NODELAY, value: 1, label: "TCP_NODELAY")
    }

    /// Starts a nonblocking connect: `.processed` when it completed at once (loopback can), `.wouldBlock` while in
    /// progress. Failures throw with the errno so that the caller can tell "refused" from "unreachable".
    static func connect(_ fd: Int32, to address: SocketAddress) throws(ReactorError) -> IOResult<Void> {
        while true {
            let result = address.withSockAddr { pointer, length in Glibc.connect(fd, pointer, length) }
            if result == 0 { return .processed(()) }
            let code = errno
            if code == EINTR { continue }
            if code == EINPROGRESS || code == EAGAIN { return .wouldBlock }
            throw .syscall("connect", errno: code)
        }
    }

    /// The result of a finished nonblocking connect (0 on success, else the errno).
    static func socketError(_ fd: Int32) throws(ReactorError) -> Int32 {
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        _ = try call("getsockopt(SO_ERROR)") { getsockopt(fd, SOL_SOCKET, SO_ERROR, &value, &length) }
        return value
    }

    static func bind(_ fd: Int32, to address: SocketAddress) throws(ReactorError) {
        _ = try call("bind") { address.withSockAddr { Glibc.bind(fd, $0, $1) } }
    }

    static func listen(_ fd: Int32, backlog: Int32) throws(ReactorError) {
        _ = try call("listen") { Glibc.listen(fd, backlog) }
    }

    static func accept(_ fd: Int32) throws(ReactorError) -> IOResult<Int32> {
        while true {
            let result = cl_accept4(fd, nil, nil, Int32(SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue))
            if result >= 0 { return .processed(result) }
            let code = errno
            switch code {
            case EINTR, ECONNABORTED: continue  // the client gave up while queued: take the next one
            case EAGAIN, EWOULDBLOCK: return .wouldBlock
            default: throw .syscall("accept4", errno: code)
            }
        }
    }

    /// shutdown(2). ENOTCONN means the peer is already gone, which is what shutting down wanted anyway.
    static func shutdown(_ fd: Int32, how: Int32) throws(ReactorError) {
        if Glibc.shutdown(fd, how) == -1 {
            let code = errno
            if code != ENOTCONN { throw .syscall("shutdown", errno: code) }
        }
    }

    static func localAddress(_ fd: Int32) throws(ReactorError) -> SocketAddress {
        try SocketAddress.fromKernel("getsockname") { getsockname(fd, $0, $1) }
    }

    static func peerAddress(_ fd: Int32) throws(ReactorError) -> SocketAddress {
        try SocketAddress.fromKernel("getpeername") { getpeername(fd, $0, $1) }
    }

    /// An AF_UNIX datagram socket, nonblocking and close-on-exec: systemd's notify socket (sd_notify(3)).
    static func unixDatagramSocket() throws(ReactorError) -> Int32 {
        let type = Int32(SOCK_DGRAM.rawValue | SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue)
        return try call("socket(AF_UNIX)") { Glibc.socket(AF_UNIX, type, 0) }
    }

    /// sendto(2) of one datagram with MSG_NOSIGNAL; a full receive queue is `.wouldBlock`.
    static func sendTo(
        _ fd: Int32, _ buffer: UnsafeRawBufferPointer, _ address: UnsafePointer<sockaddr>, _ length: socklen_t
    ) throws(ReactorError) -> IOResult<Int> {
        try nonBlocking("sendto") {
            Glibc.sendto(fd, buffer.baseAddress, buffer.count, Int32(MSG_NOSIGNAL), address, length)
        }
    }

    // MARK: threads and name resolution

    /// Starts a thread running `body`. Threads are created here, in library code, because a `@convention(c)` entry
    /// written in an executable's main.swift is inferred main-actor and traps when the thread starts (PLATFORM.md).
    static func spawnThread(detached: Bool, _ body: @escaping @Sendable () -> Void) throws(ReactorError) -> pthread_t {
        final class Box: Sendable {
            let body: @Sendable () -> Void
            init(_ body: @escaping @Sendable () -> Void) { self.body = body }
        }
        let context = Unmanaged.passRetained(Box(body)).toOpaque()
        var thread = pthread_t()
        let result = pthread_create(
            &thread, nil,
            { raw in
                let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
                box.body()
                return nil
            }, context)
        if result != 0 {
            Unmanaged<Box>.fromOpaque(context).release()
            throw .syscall("pthread_create", errno: result)
        }
        if detached { pthread_detach(thread) }
        return thread
    }

    static func joinThread(_ thread: pthread_t) {
        let result = pthread_join(thread, nil)
        precondition(result == 0, "pthread_join: \(Errno.describe(result))")
    }

    /// getaddrinfo(3) for a TCP service: blocks, so it runs on a worker thread (see Resolver).
    static func getAddresses(host: String, port: Int) -> Result<[SocketAddress], ReactorError> {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_protocol = Int32(IPPROTO_TCP)
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        if status != 0 {
            let reason: String
            if status == EAI_SYSTEM {
                reason = Errno.describe(errno)
            } else {
                reason = String(cString: gai_strerror(status))
            }
            return .failure(.resolveFailed(host: host, reason: reason))
        }
        defer { freeaddrinfo(list) }
        var addresses: [SocketAddress] = []
        var node = list
        while let entry = node {
            if let address = SocketAddress(entry.pointee.ai_addr, length: entry.pointee.ai_addrlen),
                !addresses.contains(address)
            {
                addresses.append(address)
            }
            node = entry.pointee.ai_next
        }
        if addresses.isEmpty { return .failure(.resolveFailed(host: host, reason: "no IPv4 or IPv6 address")) }
        return .success(addresses)
    }
}

extension IOResult {
    @inline(__always)
    func map<Other>(_ transform: (Value) -> Other) -> IOResult<Other> {
        switch self {
        case .processed(let value): return .processed(transform(value))
        case .wouldBlock: return .wouldBlock
        }
    }
}
