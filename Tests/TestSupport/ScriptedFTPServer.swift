import Reactor

/// A purpose-built plain-FTP server for fault tests. Logs anyone in, answers FEAT with SIZE, and for each other
/// command asks `script(command)` what to do; `nil` means the ordinary answer (passive ports really open, STOR
/// stores, SIZE/RNFR/RNTO/DELE/MKD succeed). Records every command it received.
public final class ScriptedFTPServer: ByteStreamDelegate {
    public enum Step: Sendable {
        case reply(String)
        /// Close the control connection without a word.
        case drop
        /// Announce a passive port nobody listens on.
        case passiveToNowhere
    }

    public let listener: TCPListener
    public private(set) var commands: [String] = []
    /// Bytes each STOR received, by path.
    public private(set) var stored: [String: [UInt8]] = [:]
    private let script: @Sendable (String) -> [Step]?
    private var control: TCPConnection?
    private var buffer: [UInt8] = []
    private var passive: TCPListener?
    private var dataConnection: TCPConnection?
    private var dataBytes: [UInt8] = []
    private var storing: String?
    private var dataEnded = false
    private var storeReplyHeld: String?

    public var port: Int { listener.localAddress.port }

    public init(loop: EventLoop, script: @escaping @Sendable (String) -> [Step]?) throws {
        self.script = script
        listener = try TCPListener(loop: loop, address: SocketAddress(numericHost: "127.0.0.1", port: 0)!)
        try listener.startAccepting { [unowned self] connection in
            self.control = connection
            connection.delegate = self
            connection.write("220 scripted server ready\r\n")
        }
        loop.keepAlive(self)
    }

    public func stream(_ stream: any ByteStream, didRead bytes: UnsafeRawBufferPointer) {
        if stream === dataConnection {
            dataBytes += bytes
            return
        }
        buffer += bytes
        while let newline = buffer.firstIndex(of: 10) {
            var line = Array(buffer[..<newline])
            buffer.removeFirst(newline + 1)
            if line.last == 13 { line.removeLast() }
            handle(String(decoding: line, as: UTF8.self))
        }
    }

    private func handle(_ command: String) {
        commands.append(command)
        let verb = String(command.prefix { $0 != " " })
        let argument = command.count > verb.count ? String(command.dropFirst(verb.count + 1)) : ""
        if let steps = script(command) {
            for step in steps {
                switch step {
                case .reply(let text): reply(text)
                case .drop:
                    control?.close()
                    control = nil
                case .passiveToNowhere:
                    if let probe = try? TCPListener(loop: listener.loop, address: listener.localAddress.withPort(0)) {
                        let port = probe.localAddress.port
                        probe.close()
                        reply("229 Entering Extended Passive Mode (|||\(port)|)")
                    }
                }
            }
            return
        }
        switch verb {
        case "USER": reply("331 password please")
        case "PASS": reply("230 logged in")
        case "FEAT": reply("211-Features:\r\n SIZE\r\n EPSV\r\n211 End")
        case "TYPE": reply("200 binary")
        case "MKD": reply("257 created")
        case "EPSV": openPassive()
        case "STOR":
            storing = argument
            reply("150 go ahead")
            finishStoreIfDone()
        case "SIZE": reply("213 \(stored[argument]?.count ?? 0)")
        case "RNFR": reply("350 ready")
        case "RNTO", "DELE": reply("250 done")
        case "QUIT":
            reply("221 bye")
            control?.closeGracefully()
        default: reply("502 not here")
        }
    }

    private func reply(_ text: String) {
        control?.write(text + "\r\n")
    }

    private func openPassive() {
        guard let data = try? TCPListener(loop: listener.loop, address: listener.localAddress.withPort(0)) else {
            return reply("425 no port")
        }
        passive?.close()
        passive = data
        dataBytes = []
        dataEnded = false
        try? data.startAccepting { [unowned self] connection in
            self.dataConnection = connection
            connection.delegate = self
            data.close()
        }
        reply("229 Entering Extended Passive Mode (|||\(data.localAddress.port)|)")
    }

    private func finishStoreIfDone() {
        guard dataEnded, let path = storing else { return }
        stored[path] = dataBytes
        storing = nil
        reply(storeReplyHeld ?? "226 stored")
    }

    public func streamDidBecomeWritable(_ stream: any ByteStream) {}

    public func stream(_ stream: any ByteStream, didEnd end: StreamEnd) {
        if stream === dataConnection {
            stream.close()
            dataConnection = nil
            dataEnded = true
            finishStoreIfDone()
        } else {
            stream.close()
            control = nil
        }
    }

    /// The reply STOR gets once its data is in (default 226): e.g. "452 disk full".
    public func answerStore(with text: String) { storeReplyHeld = text }

    public func close() {
        listener.close()
        passive?.close()
        control?.close()
        dataConnection?.close()
    }
}
