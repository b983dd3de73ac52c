import Reactor

/// A purpose-built misbehaving server: for each request it reads (up to the blank line), it plays the steps that
/// `script(connection, request)` returns — bytes, pauses, a FIN or a RST. Counts what it saw.
public final class ScriptedServer: ByteStreamDelegate {
    public enum Step: Sendable {
        case send(String)
        case bytes([UInt8])
        case pause(milliseconds: Int)
        case close
        case reset
        /// Do nothing more on this connection (a stall): the client must time out.
        case hang
    }

    public let listener: TCPListener
    public private(set) var connections = 0
    public private(set) var requests: [String] = []
    private var buffers: [ObjectIdentifier: [UInt8]] = [:]
    private var open: [ObjectIdentifier: TCPConnection] = [:]
    private var indices: [ObjectIdentifier: Int] = [:]
    private let script: (_ connection: Int, _ request: String) -> [Step]

    public var port: Int { listener.localAddress.port }

    public init(loop: EventLoop, script: @escaping (_ connection: Int, _ request: String) -> [Step]) throws {
        self.script = script
        listener = try TCPListener(loop: loop, address: SocketAddress(numericHost: "127.0.0.1", port: 0)!)
        try listener.startAccepting { [unowned self] connection in
            self.connections += 1
            self.open[ObjectIdentifier(connection)] = connection
            self.indices[ObjectIdentifier(connection)] = self.connections
            connection.delegate = self
        }
        listener.loop.keepAlive(self)
    }

    public func stream(_ stream: any ByteStream, didRead bytes: UnsafeRawBufferPointer) {
        guard let connection = stream as? TCPConnection else { return }
        let id = ObjectIdentifier(connection)
        var buffer = buffers[id, default: []] + bytes
        while let end = Self.endOfHead(buffer) {
            let request = String(decoding: buffer[..<end], as: UTF8.self)
            buffer.removeFirst(end)
            requests.append(request)
            play(script(indices[id] ?? 0, request)[...], on: connection)
        }
        buffers[id] = buffer
    }

    private func play(_ steps: ArraySlice<Step>, on connection: TCPConnection) {
        guard connection.isOpen, let step = steps.first else { return }
        let rest = steps.dropFirst()
        switch step {
        case .send(let text):
            connection.write(text)
            play(rest, on: connection)
        case .bytes(let bytes):
            connection.write(bytes)
            play(rest, on: connection)
        case .pause(let ms):
            connection.loop.scheduleTimer(afterMilliseconds: ms) { self.play(rest, on: connection) }
        case .close:
            connection.closeGracefully(timeoutMS: 1000)
            forget(connection)
        case .reset:
            connection.reset()
            forget(connection)
        case .hang:
            break
        }
    }

    private func forget(_ connection: TCPConnection) {
        open[ObjectIdentifier(connection)] = nil
        buffers[ObjectIdentifier(connection)] = nil
    }

    public func streamDidBecomeWritable(_ stream: any ByteStream) {}

    public func stream(_ stream: any ByteStream, didEnd end: StreamEnd) {
        stream.close()
        if let connection = stream as? TCPConnection { forget(connection) }
    }

    public func close() {
        listener.close()
        for connection in open.values { connection.close() }
        open = [:]
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
