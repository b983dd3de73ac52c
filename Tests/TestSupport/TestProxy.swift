@_spi(Internals) import Reactor

/// A small HTTP proxy for tests: CONNECT tunnels (relaying bytes both ways, TLS passes through untouched) and
/// forward requests in absolute form (relayed to the origin as they are). Records each request head it received.
@_spi(Internals) public final class TestProxy: ByteStreamDelegate {
    @_spi(Internals) public let listener: TCPListener
    public private(set) var heads: [String] = []
    private var buffers: [ObjectIdentifier: [UInt8]] = [:]
    private var relays: [Relay] = []
    /// Answer every request with 407 unless it carries this Proxy-Authorization value.
    public var requiredAuthorization: String?

    public var port: Int { listener.localAddress.port }

    public init(loop: EventLoop) throws {
        listener = try TCPListener(loop: loop, address: SocketAddress(numericHost: "127.0.0.1", port: 0)!)
        try listener.startAccepting { [unowned self] connection in connection.delegate = self }
        loop.keepAlive(self)
    }

    @_spi(Internals) public func stream(_ stream: any ByteStream, didRead bytes: UnsafeRawBufferPointer) {
        let id = ObjectIdentifier(stream)
        let buffer = buffers[id, default: []] + bytes
        guard let end = ScriptedServer.endOfHead(buffer) else {
            buffers[id] = buffer
            return
        }
        buffers[id] = nil
        let head = String(decoding: buffer[..<end], as: UTF8.self)
        let rest = Array(buffer[end...])
        heads.append(head)
        let requestLine = head.split(separator: "\r\n").first.map(String.init) ?? ""
        let words = requestLine.split(separator: " ").map(String.init)
        guard words.count == 3 else { return stream.close() }
        if let required = requiredAuthorization, !head.contains("Proxy-Authorization: \(required)\r\n") {
            stream.write("HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            return stream.closeGracefully()
        }
        if words[0] == "CONNECT" {
            let parts = words[1].split(separator: ":")
            guard parts.count == 2, let port = Int(parts[1]) else { return stream.close() }
            connect(String(parts[0]), port, from: stream) { upstream in
                stream.write("HTTP/1.1 200 Connection established\r\n\r\n")
                return rest
            }
        } else {
            // Absolute form: http://host:port/path. Forward the head as it came.
            let target = words[1].dropFirst("http://".count)
            let authority = target.prefix { $0 != "/" }
            let hostPort = authority.split(separator: ":")
            let port = hostPort.count == 2 ? Int(hostPort[1]) ?? 80 : 80
            connect(String(hostPort[0]), port, from: stream) { _ in Array(buffer) }
        }
    }

    private func connect(
        _ host: String, _ port: Int, from client: any ByteStream, firstBytes: @escaping (any ByteStream) -> [UInt8]
    ) {
        client.delegate = nil
        client.pauseReading()
        TCPConnector(loop: listener.loop).connect(host: host, port: port) { [weak self] result in
            guard let self else { return }
            switch result {
            case .failure:
                client.write("HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                client.closeGracefully()
            case .success(let upstream):
                let first = firstBytes(upstream)
                upstream.write(first)
                self.relays.append(Relay(client, upstream))
            }
        }
    }

    @_spi(Internals) public func streamDidBecomeWritable(_ stream: any ByteStream) {}

    @_spi(Internals) public func stream(_ stream: any ByteStream, didEnd end: StreamEnd) { stream.close() }

    public func close() {
        listener.close()
        for relay in relays { relay.close() }
        relays = []
    }
}

/// Copies bytes both ways between two streams until either ends.
final class Relay: ByteStreamDelegate {
    let a: any ByteStream
    let b: any ByteStream

    init(_ a: any ByteStream, _ b: any ByteStream) {
        self.a = a
        self.b = b
        a.delegate = self
        b.delegate = self
        a.resumeReading()
        b.resumeReading()
    }

    func stream(_ stream: any ByteStream, didRead bytes: UnsafeRawBufferPointer) {
        (stream === a ? b : a).write(bytes)
    }

    func streamDidBecomeWritable(_ stream: any ByteStream) {}

    func stream(_ stream: any ByteStream, didEnd end: StreamEnd) {
        (stream === a ? b : a).shutdownOutput()
        if case .failed = end { close() }
    }

    func close() {
        a.close()
        b.close()
    }
}
