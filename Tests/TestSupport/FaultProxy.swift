@_spi(Internals) import Reactor

/// A fault to inject: on which connection, in which direction, when, and what.
public struct Fault: Sendable, CustomStringConvertible {
    public enum Kind: Sendable {
        /// FIN both ways.
        case cut
        /// RST both ways.
        case reset
        /// Forward nothing more in this direction; the connection stays open (the client must time out).
        case stall
        /// Flip every bit of the byte at the trigger point, then go on.
        case corrupt
        /// From the trigger on, forward one byte every `milliseconds`.
        case drip(milliseconds: Int)
        /// Hold the bytes from the trigger on for `milliseconds`, then go on.
        case delay(milliseconds: Int)
        /// Accept, then reset at once (a refused connection, as far as the client can tell).
        case refuse
    }

    public enum Direction: Sendable { case toServer, toClient }
    public enum Channel: Sendable { case control, data }

    public enum Trigger: Sendable {
        /// After this many bytes in the direction.
        case offset(Int)
        /// Before the `occurrence`-th line (FTP command or reply) on the connection that starts with this text; the
        /// proxy must parse FTP.
        case line(String, occurrence: Int = 1)
        /// This long after the connection was accepted, whatever is flowing (or not): cut, reset and stall strike
        /// at once; the other kinds from the next byte on.
        case time(milliseconds: Int)
    }

    public var kind: Kind
    public var direction: Direction
    public var trigger: Trigger
    /// The connection it hits, counted per channel from 1; 0 hits every one.
    public var connection: Int
    public var channel: Channel

    public init(
        _ kind: Kind, _ direction: Direction = .toClient, at trigger: Trigger = .offset(0), connection: Int = 1,
        channel: Channel = .control
    ) {
        self.kind = kind
        self.direction = direction
        self.trigger = trigger
        self.connection = connection
        self.channel = channel
    }

    public var description: String {
        let when: String
        switch trigger {
        case .offset(let offset): when = "at byte \(offset)"
        case .line(let text, let occurrence): when = "before \"\(text)\"" + (occurrence > 1 ? " #\(occurrence)" : "")
        case .time(let milliseconds): when = "after \(milliseconds) ms"
        }
        return "\(kind) \(direction) \(when) on \(channel) connection \(connection == 0 ? "every" : "\(connection)")"
    }
}

/// A TCP proxy on loopback between web2ftp and a real server that injects `faults`. With `ftp` set it also reads the
/// control connection line by line: its passive replies (227/229) are rewritten to point at data proxies of its own,
/// so data connections pass through it too, and faults can be tied to a command or a reply.
public final class FaultProxy {
    @_spi(Internals) public let listener: TCPListener
    public var port: Int { listener.localAddress.port }
    public private(set) var connections: [Fault.Channel: Int] = [:]
    private let upstreamHost: String
    private let upstreamPort: Int
    private let faults: [Fault]
    private let ftp: Bool
    private var links: [ProxyLink] = []
    private var dataListeners: [TCPListener] = []

    public init(
        loop: EventLoop, upstreamHost: String = "127.0.0.1", upstreamPort: Int, faults: [Fault], ftp: Bool = false
    ) throws {
        self.upstreamHost = upstreamHost
        self.upstreamPort = upstreamPort
        self.faults = faults
        self.ftp = ftp
        listener = try TCPListener(loop: loop, address: SocketAddress(numericHost: "127.0.0.1", port: 0)!)
        try listener.startAccepting { [unowned self] client in
            self.accept(client, channel: .control, upstreamPort: self.upstreamPort)
        }
        loop.keepAlive(self)
    }

    private func accept(_ client: TCPConnection, channel: Fault.Channel, upstreamPort: Int) {
        let ordinal = connections[channel, default: 0] + 1
        connections[channel] = ordinal
        let mine = faults.filter { $0.channel == channel && ($0.connection == 0 || $0.connection == ordinal) }
        if mine.contains(where: { if case .refuse = $0.kind { return true } else { return false } }) {
            return client.reset()
        }
        client.pauseReading()
        TCPConnector(loop: listener.loop).connect(host: upstreamHost, port: upstreamPort) { [weak self] result in
            guard let self else { return client.close() }
            switch result {
            case .failure: client.reset()
            case .success(let server):
                let link = ProxyLink(
                    client: client, server: server, faults: mine, parseLines: self.ftp && channel == .control,
                    passive: { [weak self] port in self?.openDataProxy(to: port) })
                self.links.append(link)
            }
        }
    }

    /// A listener for one data connection to the server's passive `port`; returns the port to announce.
    private func openDataProxy(to port: Int) -> Int? {
        guard
            let listener = try? TCPListener(
                loop: self.listener.loop, address: SocketAddress(numericHost: "127.0.0.1", port: 0)!)
        else { return nil }
        try? listener.startAccepting { [unowned self, unowned listener] client in
            listener.close()
            self.accept(client, channel: .data, upstreamPort: port)
        }
        dataListeners.append(listener)
        return listener.localAddress.port
    }

    public func close() {
        listener.close()
        for listener in dataListeners { listener.close() }
        for link in links { link.close() }
        links = []
    }
}

/// One proxied connection: two pumps, one per direction.
final class ProxyLink: ByteStreamDelegate {
    let client: TCPConnection
    let server: TCPConnection
    private var pumps: [ObjectIdentifier: Pump] = [:]
    private var closed = false

    init(
        client: TCPConnection, server: TCPConnection, faults: [Fault], parseLines: Bool,
        passive: @escaping (Int) -> Int?
    ) {
        self.client = client
        self.server = server
        pumps[ObjectIdentifier(client)] = Pump(
            from: client, to: server, faults: faults.filter { $0.direction == .toServer }, parseLines: parseLines,
            rewrite: nil)
        pumps[ObjectIdentifier(server)] = Pump(
            from: server, to: client, faults: faults.filter { $0.direction == .toClient }, parseLines: parseLines,
            rewrite: parseLines ? { line in Self.rewritePassive(line, passive) } : nil)
        for pump in pumps.values {
            pump.link = self
            pump.armTimedFaults()
        }
        client.delegate = self
        server.delegate = self
        client.resumeReading()
        server.resumeReading()
    }

    /// `227 … (h1,h2,h3,h4,p1,p2)` and `229 … (|||port|)` name our own data listener instead of the server's.
    static func rewritePassive(_ line: String, _ passive: (Int) -> Int?) -> String {
        if line.hasPrefix("229 "), let open = line.firstIndex(of: "("), let close = line.lastIndex(of: ")") {
            let inner = line[line.index(after: open)..<close].split(separator: "|", omittingEmptySubsequences: true)
            if let port = inner.last.flatMap({ Int($0) }), let ours = passive(port) {
                return "229 Entering Extended Passive Mode (|||\(ours)|)\r\n"
            }
        }
        if line.hasPrefix("227 "), let open = line.firstIndex(of: "("), let close = line.lastIndex(of: ")") {
            let numbers = line[line.index(after: open)..<close].split(separator: ",").compactMap { Int($0) }
            if numbers.count == 6, let ours = passive(numbers[4] * 256 + numbers[5]) {
                return "227 Entering Passive Mode (127,0,0,1,\(ours / 256),\(ours % 256))\r\n"
            }
        }
        return line
    }

    func stream(_ stream: any ByteStream, didRead bytes: UnsafeRawBufferPointer) {
        pumps[ObjectIdentifier(stream)]?.push(Array(bytes))
    }

    func streamDidBecomeWritable(_ stream: any ByteStream) {}

    func stream(_ stream: any ByteStream, didEnd end: StreamEnd) {
        guard let pump = pumps[ObjectIdentifier(stream)] else { return }
        if case .failed = end { return reset() }
        pump.finish()
    }

    func cut() {
        guard !closed else { return }
        client.shutdownOutput()
        server.shutdownOutput()
        client.loop.scheduleTimer(afterMilliseconds: 200) { [self] in close() }
    }

    func reset() {
        guard !closed else { return }
        closed = true
        client.reset()
        server.reset()
    }

    func close() {
        guard !closed else { return }
        closed = true
        client.close()
        server.close()
    }
}

/// Bytes one way, with the faults of that direction. In line mode whole lines go through (so that a fault can wait
/// for a command or reply, and passive replies can be rewritten).
final class Pump {
    let from: TCPConnection
    let to: TCPConnection
    weak var link: ProxyLink?
    private var faults: [Fault]
    private let parseLines: Bool
    private let rewrite: ((String) -> String)?
    private var offset = 0
    private var pending: [UInt8] = []
    private var stalled = false
    private var held = false
    private var dripping: Int?
    private var inputEnded = false
    /// Lines seen so far per line trigger text.
    private var seen: [String: Int] = [:]

    init(from: TCPConnection, to: TCPConnection, faults: [Fault], parseLines: Bool, rewrite: ((String) -> String)?) {
        self.from = from
        self.to = to
        self.faults = faults
        self.parseLines = parseLines
        self.rewrite = rewrite
    }

    /// Timed faults run from now (the connection was just accepted and joined to the server).
    func armTimedFaults() {
        for fault in faults {
            guard case .time(let milliseconds) = fault.trigger else { continue }
            from.loop.scheduleTimer(afterMilliseconds: milliseconds) { [weak self] in self?.strike(fault) }
        }
    }

    private func strike(_ timed: Fault) {
        guard
            let index = faults.firstIndex(where: {
                if case .time = $0.trigger { $0.description == timed.description } else { false }
            })
        else { return }
        faults.remove(at: index)
        switch timed.kind {
        case .cut: link?.cut()
        case .reset, .refuse: link?.reset()
        case .stall:
            stalled = true
            from.pauseReading()
        case .corrupt, .drip, .delay:
            // From the next byte on, as if it had been aimed at this offset.
            faults.append(
                Fault(
                    timed.kind, timed.direction, at: .offset(offset), connection: timed.connection,
                    channel: timed.channel))
            pumpPending()
        }
    }

    func push(_ bytes: [UInt8]) {
        pending += bytes
        pumpPending()
    }

    func finish() {
        inputEnded = true
        pumpPending()
    }

    private func pumpPending() {
        while !pending.isEmpty && !stalled && !held {
            if let delay = dripping {
                forward([pending.removeFirst()])
                held = true
                from.loop.scheduleTimer(afterMilliseconds: delay) { [self] in
                    held = false
                    pumpPending()
                }
                return
            }
            let chunk: [UInt8]
            if parseLines {
                guard let newline = pending.firstIndex(of: 10) else {
                    if inputEnded { chunk = pending } else { return }
                    pending = []
                    if !deliver(chunk) { return }
                    continue
                }
                chunk = Array(pending[...newline])
                pending.removeFirst(newline + 1)
            } else {
                chunk = pending
                pending = []
            }
            if !deliver(chunk) { return }
        }
        if pending.isEmpty && inputEnded && !stalled && !held { to.shutdownOutput() }
    }

    /// Forwards `chunk` unless a fault fires inside it; false when the pump must stop for now.
    private func deliver(_ chunk: [UInt8]) -> Bool {
        if parseLines {
            let line = String(decoding: chunk, as: UTF8.self)
            for fault in faults {
                if case .line(let text, _) = fault.trigger, line.hasPrefix(text) { seen[text, default: 0] += 1 }
            }
        }
        for (index, fault) in faults.enumerated() {
            var cut: Int?
            switch fault.trigger {
            case .offset(let at) where at >= offset && at < offset + chunk.count:
                cut = at - offset
            case .line(let text, let occurrence)
            where parseLines && String(decoding: chunk, as: UTF8.self).hasPrefix(text) && seen[text] == occurrence:
                cut = 0
            default:
                break
            }
            guard let point = cut else { continue }
            faults.remove(at: index)
            forward(Array(chunk[..<point]))
            var rest = Array(chunk[point...])
            switch fault.kind {
            case .cut:
                link?.cut()
                return false
            case .reset, .refuse:
                link?.reset()
                return false
            case .stall:
                stalled = true
                from.pauseReading()
                return false
            case .corrupt:
                if !rest.isEmpty { rest[0] ^= 0xFF }
                forward(rest)
                return true
            case .drip(let milliseconds):
                dripping = milliseconds
                pending = rest + pending
                return true
            case .delay(let milliseconds):
                held = true
                pending = rest + pending
                from.loop.scheduleTimer(afterMilliseconds: milliseconds) { [self] in
                    held = false
                    pumpPending()
                }
                return false
            }
        }
        forward(chunk)
        return true
    }

    private func forward(_ bytes: [UInt8]) {
        guard !bytes.isEmpty else { return }
        offset += bytes.count
        to.write(rewrite.map { Array($0(String(decoding: bytes, as: UTF8.self)).utf8) } ?? bytes)
    }
}
