import Glibc

/// A listening TCP socket on the loop. Used by tests' purpose-built servers and by anything that must accept.
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
        fd = try Sys.socket(family: address.family)
        localAddress = try Sys.setUp(&fd) { (fd) throws(ReactorError) in
            try Sys.setOption(fd, level: SOL_SOCKET, name: SO_REUSEADDR, value: 1, label: "SO_REUSEADDR")
            try Sys.bind(fd, to: address)
            try Sys.listen(fd, backlog: backlog)
            return try Sys.localAddress(fd)
        }
    }

    deinit { if fd >= 0 { Sys.close(fd) } }

    /// Accepts connections as they come and hands each, already registered on the loop, to `handler`.
    public func startAccepting(_ handler: @escaping (TCPConnection) -> Void) throws(ReactorError) {
        loop.assertInLoop()
        precondition(onAccept == nil && fd >= 0)
        onAccept = handler
        try loop.register(fd, interest: .read, handler: self)
    }

    public func handleIO(_ readiness: Readiness) {
        while fd >= 0, let onAccept {
            let accepted: IOResult<Int32>
            do {
                accepted = try Sys.accept(fd)
            } catch {
                // EMFILE and the like: nothing to do but wait; the backlog keeps the client until then.
                return
            }
            guard case .processed(let client) = accepted else { return }
            guard let connection = try? TCPConnection(loop: loop, adopting: client, limits: limits) else { continue }
            onAccept(connection)
        }
    }

    public func close() {
        guard fd >= 0 else { return }
        if onAccept != nil { loop.deregister(fd) }
        onAccept = nil
        Sys.close(fd)
        fd = -1
    }
}
