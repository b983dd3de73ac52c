import Glibc

/// Resolves a host and connects to it, trying each address in turn in the manner of RFC 8305 ("Happy Eyeballs"):
/// families interleaved, a new attempt started when the previous one fails or after `attemptDelayMS`, the first
/// connection to succeed wins and the others are closed. One deadline covers the whole of resolve and connect.
@_spi(Internals) public final class TCPConnector {
    public struct Options: Sendable {
        /// The whole time allowed for resolving and connecting.
        public var connectTimeoutMS: Int
        /// How long an attempt runs alone before the next address is tried alongside it (RFC 8305 §5: 250 ms).
        public var attemptDelayMS: Int
        public var noDelay: Bool
        public var limits: StreamLimits

        public init(
            connectTimeoutMS: Int = 10_000, attemptDelayMS: Int = 250, noDelay: Bool = true,
            limits: StreamLimits = StreamLimits()
        ) {
            self.connectTimeoutMS = connectTimeoutMS
            self.attemptDelayMS = attemptDelayMS
            self.noDelay = noDelay
            self.limits = limits
        }
    }

    public typealias Completion = (Result<TCPConnection, ReactorError>) -> Void

    private let loop: EventLoop
    private let options: Options
    private var resolver: Resolver?
    private var host = ""
    private var port = 0
    private var completion: Completion?
    private var addresses: [SocketAddress] = []
    private var nextAddress = 0
    private var attempts: [Attempt] = []
    private var deadline: TimerID?
    private var staggerTimer: TimerID?
    private var lastError: ReactorError?

    public init(loop: EventLoop, options: Options = Options()) {
        self.loop = loop
        self.options = options
    }

    /// Connects to `host` (name or literal) on `port`; `completion` runs once on the loop.
    public func connect(host: String, port: Int, completion: @escaping Completion) {
        loop.assertInLoop()
        precondition(self.completion == nil, "one connect at a time per TCPConnector")
        self.host = host
        self.port = port
        self.completion = completion
        armDeadline()
        let timeout = options.connectTimeoutMS
        let resolver = Resolver(loop: loop)
        self.resolver = resolver
        // The resolver gets the whole budget; the deadline above ends both phases.
        resolver.resolve(host: host, port: port, timeoutMS: timeout + 1000) { [weak self] result in
            guard let self, self.completion != nil else { return }
            self.resolver = nil
            switch result {
            case .failure(let error): self.finish(.failure(error))
            case .success(let found): self.start(with: found)
            }
        }
    }

    /// Connects to known addresses (no lookup); `host` only names the target in errors.
    public func connect(to addresses: [SocketAddress], host: String, completion: @escaping Completion) {
        loop.assertInLoop()
        precondition(self.completion == nil && !addresses.isEmpty)
        self.host = host
        self.port = addresses[0].port
        self.completion = completion
        armDeadline()
        start(with: addresses)
    }

    /// One deadline for resolve and connect. Its closure holds the connector until the connect ends, so a caller
    /// need not keep it.
    private func armDeadline() {
        let (host, port, timeout) = (host, port, options.connectTimeoutMS)
        deadline = loop.scheduleTimer(afterMilliseconds: timeout) {
            self.deadline = nil
            self.finish(.failure(.connectTimeout(host: host, port: port, milliseconds: timeout)))
        }
    }

    /// Gives up; the completion does not run.
    public func cancel() {
        completion = nil
        cleanUp()
    }

    private func start(with found: [SocketAddress]) {
        addresses = Self.interleaved(found)
        nextAddress = 0
        startNextAttempt()
    }

    /// RFC 8305 §4: alternate address families, starting with the resolver's first choice.
    static func interleaved(_ addresses: [SocketAddress]) -> [SocketAddress] {
        guard let first = addresses.first else { return [] }
        var preferred = addresses.filter { $0.family == first.family }
        var other = addresses.filter { $0.family != first.family }
        var result: [SocketAddress] = []
        while !preferred.isEmpty || !other.isEmpty {
            if !preferred.isEmpty { result.append(preferred.removeFirst()) }
            if !other.isEmpty { result.append(other.removeFirst()) }
        }
        return result
    }

    private func startNextAttempt() {
        if let staggerTimer { loop.cancelTimer(staggerTimer) }
        staggerTimer = nil
        guard completion != nil else { return }
        guard nextAddress < addresses.count else {
            if attempts.isEmpty {
                finish(.failure(lastError ?? .connectTimeout(host: host, port: port, milliseconds: 0)))
            }
            return
        }
        let address = addresses[nextAddress]
        nextAddress += 1
        do {
            let attempt = try Attempt(loop: loop, address: address, noDelay: options.noDelay) { [weak self] in
                self?.attemptEnded($0, $1)
            }
            attempts.append(attempt)
        } catch {
            lastError = describe(error, address: address)
            startNextAttempt()
            return
        }
        if nextAddress < addresses.count {
            staggerTimer = loop.scheduleTimer(afterMilliseconds: options.attemptDelayMS) { [weak self] in
                self?.staggerTimer = nil
                self?.startNextAttempt()
            }
        }
    }

    private func attemptEnded(_ attempt: Attempt, _ error: ReactorError?) {
        attempts.removeAll { $0 === attempt }
        guard completion != nil else {
            attempt.close()
            return
        }
        if let error {
            attempt.close()
            lastError = describe(error, address: attempt.address)
            startNextAttempt()
            return
        }
        do {
            let connection = try TCPConnection(loop: loop, adopting: attempt.release(), limits: options.limits)
            finish(.success(connection))
        } catch {
            lastError = error
            startNextAttempt()
        }
    }

    private func describe(_ error: ReactorError, address: SocketAddress) -> ReactorError {
        guard case .syscall(_, let code) = error else { return error }
        if code == ECONNREFUSED {
            return .connectionRefused(host: host, port: port, address: address.description)
        }
        return .connectFailed(host: host, port: port, address: address.description, errno: code)
    }

    private func finish(_ result: Result<TCPConnection, ReactorError>) {
        guard let completion else {
            if case .success(let connection) = result { connection.close() }
            return
        }
        self.completion = nil
        cleanUp()
        completion(result)
    }

    private func cleanUp() {
        resolver?.cancel()
        resolver = nil
        if let deadline { loop.cancelTimer(deadline) }
        if let staggerTimer { loop.cancelTimer(staggerTimer) }
        deadline = nil
        staggerTimer = nil
        for attempt in attempts { attempt.close() }
        attempts = []
    }
}

/// One nonblocking connect(2) in flight. Owns its socket until it is released to a TCPConnection or closed.
private final class Attempt: IOHandler {
    let address: SocketAddress
    private let loop: EventLoop
    private var fd: Int32
    private var onEnd: ((Attempt, ReactorError?) -> Void)?

    init(
        loop: EventLoop, address: SocketAddress, noDelay: Bool, onEnd: @escaping (Attempt, ReactorError?) -> Void
    ) throws(ReactorError) {
        self.loop = loop
        self.address = address
        self.onEnd = onEnd
        fd = try Sys.socket(family: address.family)
        try Sys.setUp(&fd) { (fd) throws(ReactorError) in
            if noDelay {
                try Sys.setNoDelay(fd)
            }
            // Loopback can connect at once; the write event still comes, so both paths end in handleIO.
            _ = try Sys.connect(fd, to: address)
            try loop.register(fd, interest: .write, handler: self)
        }
    }

    deinit { if fd >= 0 { Sys.close(fd) } }

    func handleIO(_ readiness: Readiness) {
        guard fd >= 0, let onEnd else { return }
        let code: Int32
        do {
            code = try Sys.socketError(fd)
        } catch {
            self.onEnd = nil
            onEnd(self, error)
            return
        }
        self.onEnd = nil
        onEnd(self, code == 0 ? nil : .syscall("connect", errno: code))
    }

    /// Hands the connected socket over; this attempt no longer owns it.
    func release() -> Int32 {
        loop.deregister(fd)
        defer { fd = -1 }
        return fd
    }

    func close() {
        onEnd = nil
        guard fd >= 0 else { return }
        loop.deregister(fd)
        Sys.close(fd)
        fd = -1
    }
}
