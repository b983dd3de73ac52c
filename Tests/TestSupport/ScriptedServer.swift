@_spi(Internals) import Reactor
@_spi(Internals) import TLS

/// A purpose-built misbehaving server: for each request it reads (up to the blank line), it plays the steps that
/// `script(connection, request)` returns — bytes, pauses, a FIN or a RST. With a TLS context it speaks HTTPS, and can
/// also end without close_notify. Counts what it saw.
@_spi(Internals) public final class ScriptedServer: ByteStreamDelegate {
    public enum Step: Sendable {
        case send(String)
        case bytes([UInt8])
        case pause(milliseconds: Int)
        /// End the connection properly (under TLS: close_notify, then FIN).
        case close
        /// Under TLS: a bare FIN with no close_notify, so the client cannot tell the body was whole.
        case closeWithoutNotify
        case reset
        /// Do nothing more on this connection (a stall): the client must time out.
        case hang
    }

    /// One accepted connection: the stream the script talks on, and the TCP connection under it.
    private struct Peer {
        let stream: any ByteStream
        let tcp: TCPConnection
        let index: Int
        var buffer: [UInt8] = []
    }

    @_spi(Internals) public let listener: TCPListener
    public private(set) var connections = 0
    public private(set) var requests: [String] = []
    private var peers: [ObjectIdentifier: Peer] = [:]
    private var handshaking: [TCPConnection] = []
    private let script: (_ connection: Int, _ request: String) -> [Step]

    public var port: Int { listener.localAddress.port }

    @_spi(Internals) public init(
        loop: EventLoop, tls: TLSContext? = nil, script: @escaping (_ connection: Int, _ request: String) -> [Step]
    ) throws {
        self.script = script
        listener = try TCPListener(loop: loop, address: SocketAddress(numericHost: "127.0.0.1", port: 0)!)
        try listener.startAccepting { [unowned self] connection in
            self.connections += 1
            let index = self.connections
            guard let tls else { return self.adopt(connection, over: connection, index: index) }
            self.handshaking.append(connection)
            TLSStream.accept(over: connection, context: tls) { [unowned self] result in
                self.handshaking.removeAll { $0 === connection }
                switch result {
                case .success(let stream): self.adopt(stream, over: connection, index: index)
                case .failure: connection.close()
                }
            }
        }
        listener.loop.keepAlive(self)
    }

    private func adopt(_ stream: any ByteStream, over tcp: TCPConnection, index: Int) {
        peers[ObjectIdentifier(stream)] = Peer(stream: stream, tcp: tcp, index: index)
        stream.delegate = self
    }

    @_spi(Internals) public func stream(_ stream: any ByteStream, didRead bytes: UnsafeRawBufferPointer) {
        let id = ObjectIdentifier(stream)
        guard var peer = peers[id] else { return }
        peer.buffer += bytes
        while let end = Self.endOfHead(peer.buffer) {
            let request = String(decoding: peer.buffer[..<end], as: UTF8.self)
            peer.buffer.removeFirst(end)
            requests.append(request)
            peers[id] = peer
            play(script(peer.index, request)[...], on: peer)
            guard let current = peers[id] else { return }
            peer = current
        }
        peers[id] = peer
    }

    private func play(_ steps: ArraySlice<Step>, on peer: Peer) {
        guard peers[ObjectIdentifier(peer.stream)] != nil, peer.tcp.isOpen, let step = steps.first else { return }
        let rest = steps.dropFirst()
        switch step {
        case .send(let text):
            peer.stream.write(text)
            play(rest, on: peer)
        case .bytes(let bytes):
            peer.stream.write(bytes)
            play(rest, on: peer)
        case .pause(let ms):
            peer.tcp.loop.scheduleTimer(afterMilliseconds: ms) { self.play(rest, on: peer) }
        case .close:
            forget(peer.stream)
            peer.stream.closeGracefully(timeoutMS: 1000)
        case .closeWithoutNotify:
            forget(peer.stream)
            peer.tcp.closeGracefully(timeoutMS: 1000)
        case .reset:
            forget(peer.stream)
            peer.tcp.reset()
        case .hang:
            break
        }
    }

    private func forget(_ stream: any ByteStream) {
        peers[ObjectIdentifier(stream)] = nil
    }

    @_spi(Internals) public func streamDidBecomeWritable(_ stream: any ByteStream) {}

    @_spi(Internals) public func stream(_ stream: any ByteStream, didEnd end: StreamEnd) {
        stream.close()
        forget(stream)
    }

    public func close() {
        listener.close()
        for peer in peers.values { peer.stream.close() }
        for connection in handshaking { connection.close() }
        peers = [:]
        handshaking = []
    }

    static func endOfHead(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        for index in 0...(bytes.count - 4)
        where bytes[index] == 13 && bytes[index + 1] == 10 && bytes[index + 2] == 13 && bytes[index + 3] == 10 {
            return index + 4
        }
        return nil
    }
}
