import Glibc
@_spi(Internals) import Reactor

/// A listening TCP socket on the loop, for the tests' purpose-built servers: the product only ever connects, so
/// accepting lives here, not in the library.
@_spi(Internals) public final class TCPListener: IOHandler {
    public let loop: EventLoop
    public let localAddress: SocketAddress
    private var fd: Int32
    private var onAccept: ((TCPConnection) -> Void)?
    private let limits: StreamLimits

    /// Binds and listens on `address` (port 0 picks a free port: read `localAddress`). Nothing is accepted until
    /// `startAccepting`: until then connections wait in the kernel's backlog of `backlog` entries.
    public init(
        loop: EventLoop, address: SocketAddress, backlog: Int32 = 128, limits: StreamLimits = StreamLimits()
    ) throws(ReactorError) {
        self.loop = loop
        self.limits = limits
        let fd = socket(address.family, Int32(SOCK_STREAM.rawValue | SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .syscall("socket", errno: errno) }
        var one: Int32 = 1
        guard setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size)) == 0,
            Self.bind(fd, address), listen(fd, backlog) == 0
        else {
            let code = errno
            Glibc.close(fd)
            throw .syscall("bind/listen", errno: code)
        }
        guard let bound = Self.localAddress(fd) else {
            let code = errno
            Glibc.close(fd)
            throw .syscall("getsockname", errno: code)
        }
        localAddress = bound
        self.fd = fd
    }

    private static func bind(_ fd: Int32, _ address: SocketAddress) -> Bool {
        switch address {
        case .v4(var raw):
            return withUnsafePointer(to: &raw) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
                }
            }
        case .v6(var raw):
            return withUnsafePointer(to: &raw) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) == 0
                }
            }
        }
    }

    private static func localAddress(_ fd: Int32) -> SocketAddress? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let got = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) == 0 }
        }
        guard got else { return nil }
        return withUnsafeBytes(of: storage) { raw in
            switch Int32(storage.ss_family) {
            case AF_INET: return .v4(raw.loadUnaligned(as: sockaddr_in.self))
            case AF_INET6: return .v6(raw.loadUnaligned(as: sockaddr_in6.self))
            default: return nil
            }
        }
    }

    deinit { if fd >= 0 { Glibc.close(fd) } }

    /// Accepts connections as they come and hands each, already registered on the loop, to `handler`.
    public func startAccepting(_ handler: @escaping (TCPConnection) -> Void) throws(ReactorError) {
        loop.assertInLoop()
        precondition(onAccept == nil && fd >= 0)
        onAccept = handler
        try loop.register(fd, interest: .read, handler: self)
    }

    public func handleIO(_ readiness: Readiness) {
        while fd >= 0, let onAccept {
            let client = accept(fd, nil, nil)
            guard client >= 0 else {
                // EINTR or a client that gave up while queued: take the next one. EAGAIN: all taken. EMFILE and
                // the like: wait; the backlog keeps the client until then.
                if errno == EINTR || errno == ECONNABORTED { continue }
                return
            }
            // accept4 is not in Glibc's Swift module: the flags it would set, set by hand.
            _ = fcntl(client, F_SETFL, fcntl(client, F_GETFL) | O_NONBLOCK)
            _ = fcntl(client, F_SETFD, FD_CLOEXEC)
            guard let connection = try? TCPConnection(loop: loop, adopting: client, limits: limits) else { continue }
            onAccept(connection)
        }
    }

    public func close() {
        guard fd >= 0 else { return }
        if onAccept != nil { loop.deregister(fd) }
        onAccept = nil
        Glibc.close(fd)
        fd = -1
    }
}
