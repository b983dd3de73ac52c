@_spi(Internals) import Reactor

/// Idle keep-alive connections per origin (scheme, host, port — and the proxy they go through), for the next request
/// to the same place. An idle connection that the server closes, or that says anything unasked, leaves the pool; so
/// does one that stays unused past its lifetime.
final class ConnectionPool {
    struct Key: Hashable {
        let origin: String
        let proxy: String?
    }

    private let loop: EventLoop
    private let maxPerKey: Int
    private let lifetimeMS: Int
    private var idle: [Key: [IdleConnection]] = [:]
    /// After `closeAll`, a connection handed back is closed: a task that ends after a shutdown leaves nothing open.
    private var closed = false

    init(loop: EventLoop, maxPerKey: Int, lifetimeMS: Int) {
        self.loop = loop
        self.maxPerKey = maxPerKey
        self.lifetimeMS = lifetimeMS
    }

    /// The most recently used idle connection for `key` and its trace number (0: untraced); the caller now owns it
    /// and must set its delegate.
    func take(_ key: Key) -> (stream: any ByteStream, connection: Int)? {
        guard var list = idle[key], let entry = list.popLast() else { return nil }
        idle[key] = list.isEmpty ? nil : list
        return (entry.release(), entry.connection)
    }

    func put(_ stream: any ByteStream, key: Key, connection: Int) {
        var list = idle[key] ?? []
        if closed || list.count >= maxPerKey {
            stream.close()
            return
        }
        let entry = IdleConnection(stream: stream, connection: connection, loop: loop, lifetimeMS: lifetimeMS) {
            [weak self] dead in
            self?.remove(dead, key: key)
        }
        list.append(entry)
        idle[key] = list
    }

    var idleCount: Int { idle.values.reduce(0) { $0 + $1.count } }
    /// The buffers the idle connections hold, one figure per connection.
    var idleBufferBytes: [Int] { idle.values.flatMap { $0.map(\.heldBufferBytes) } }

    func closeAll() {
        closed = true
        for entry in idle.values.joined() { entry.close() }
        idle = [:]
    }

    private func remove(_ entry: IdleConnection, key: Key) {
        idle[key]?.removeAll { $0 === entry }
        if idle[key]?.isEmpty == true { idle[key] = nil }
    }
}

/// Watches one idle connection: any event on it (close, or bytes nobody asked for) makes it useless.
private final class IdleConnection: ByteStreamDelegate {
    private var stream: (any ByteStream)?
    /// The connection's number in the trace, kept for the request that reuses it.
    let connection: Int
    private let loop: EventLoop
    private var timer: TimerID?
    private let onDead: (IdleConnection) -> Void

    init(
        stream: any ByteStream, connection: Int, loop: EventLoop, lifetimeMS: Int,
        onDead: @escaping (IdleConnection) -> Void
    ) {
        self.stream = stream
        self.connection = connection
        self.loop = loop
        self.onDead = onDead
        stream.delegate = self
        stream.resumeReading()
        timer = loop.scheduleTimer(afterMilliseconds: lifetimeMS) { [weak self] in self?.expire() }
    }

    var heldBufferBytes: Int { stream?.heldBufferBytes ?? 0 }

    func release() -> any ByteStream {
        if let timer { loop.cancelTimer(timer) }
        timer = nil
        let stream = stream!
        self.stream = nil
        stream.delegate = nil
        return stream
    }

    func close() {
        if let timer { loop.cancelTimer(timer) }
        timer = nil
        stream?.close()
        stream = nil
    }

    private func expire() {
        timer = nil
        close()
        onDead(self)
    }

    func stream(_ stream: any ByteStream, didRead bytes: UnsafeRawBufferPointer) { expire() }

    func streamDidBecomeWritable(_ stream: any ByteStream) {}

    func stream(_ stream: any ByteStream, didEnd end: StreamEnd) { expire() }
}
