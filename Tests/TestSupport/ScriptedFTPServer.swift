@_spi(Internals) import Reactor

/// A purpose-built plain-FTP server for fault tests, with a small in-memory file system. Logs anyone in, answers FEAT
/// with SIZE and REST STREAM, and for each other command asks `script(command)` what to do; `nil` means the ordinary answer (passive
/// ports really open, STOR stores (from a REST offset: the file's bytes before it kept), NLST lists, SIZE/RNFR/RNTO/DELE/MKD act on the files). Its PASV reply names a
/// foreign host (203.0.113.9, TEST-NET-3) with a port really open on loopback: a client that follows the reply's
/// address fails. Serves any number of control connections; records every command it received.
public final class ScriptedFTPServer {
    public enum Step: Sendable {
        case reply(String)
        /// Close the control connection without a word.
        case drop
        /// Announce a passive port nobody listens on.
        case passiveToNowhere
        /// Take the STOR as usual (150, then the data), but once the data is in answer this instead of 226, or say
        /// nothing at all (nil). The bytes are kept under the name either way, as real servers do.
        case store(answer: String?)
        /// Take the STOR, and once its data ends close the control connection without a word (as vsftpd does when
        /// a data connection's TLS handshake fails): the temporary file stays.
        case storeThenDrop
    }

    @_spi(Internals) public let listener: TCPListener
    public private(set) var commands: [String] = []
    /// Bytes each STOR received, by path as sent.
    public internal(set) var stored: [String: [UInt8]] = [:]
    /// The server's files after every rename and delete, by absolute path. Tests may put files there beforehand.
    public var files: [String: [UInt8]] = [:]
    /// Control connections accepted, and those still open.
    public private(set) var sessionsOpened = 0
    var sessions: [ScriptedFTPSession] = []
    let script: @Sendable (String) -> [Step]?
    var storeAnswer = "226 stored"

    public var port: Int { listener.localAddress.port }
    public var openSessions: Int { sessions.count }
    public var loop: EventLoop { listener.loop }

    public init(loop: EventLoop, script: @escaping @Sendable (String) -> [Step]?) throws {
        self.script = script
        listener = try TCPListener(loop: loop, address: SocketAddress(numericHost: "127.0.0.1", port: 0)!)
        try listener.startAccepting { [unowned self] connection in
            self.sessionsOpened += 1
            self.sessions.append(ScriptedFTPSession(server: self, control: connection))
        }
        loop.keepAlive(self)
    }

    /// The reply every STOR gets once its data is in (default 226): e.g. "452 disk full".
    public func answerStore(with text: String) { storeAnswer = text }

    func record(_ command: String) { commands.append(command) }

    func ended(_ session: ScriptedFTPSession) { sessions.removeAll { $0 === session } }

    public func close() {
        listener.close()
        for session in sessions { session.close() }
        sessions = []
    }

    /// `path` made absolute (the working directory is always "/").
    static func absolute(_ path: String) -> String {
        var parts: [Substring] = []
        for part in path.split(separator: "/") where part != "." {
            if part == ".." {
                _ = parts.popLast()
            } else {
                parts.append(part)
            }
        }
        return "/" + parts.joined(separator: "/")
    }

    /// Names directly inside `directory` (files, and directories that hold files).
    func names(in directory: String) -> [String] {
        let prefix = Self.absolute(directory) == "/" ? "/" : Self.absolute(directory) + "/"
        var names = Set<String>()
        for path in files.keys where path.hasPrefix(prefix) {
            if let name = path.dropFirst(prefix.count).split(separator: "/").first { names.insert(String(name)) }
        }
        return names.sorted()
    }
}

/// One control connection of a `ScriptedFTPServer`, with its passive listener and data connection.
final class ScriptedFTPSession: ByteStreamDelegate {
    private unowned let server: ScriptedFTPServer
    private var control: TCPConnection?
    private var buffer: [UInt8] = []
    private var passive: TCPListener?
    private var data: TCPConnection?
    private var dataBytes: [UInt8] = []
    private var dataEnded = false
    private var storing: (path: String, answer: String?, drop: Bool)?
    /// The offset of the last REST, for the next STOR; and the STOR in progress's.
    private var restart: Int?
    private var restartForThis: Int?
    private var storeOffset = 0
    /// Lines to send on the data connection once it is up (NLST), then close it and answer 226.
    private var listing: [String]?
    private var renameFrom: String?

    init(server: ScriptedFTPServer, control: TCPConnection) {
        self.server = server
        self.control = control
        control.delegate = self
        control.write("220 scripted server ready\r\n")
    }

    func stream(_ stream: any ByteStream, didRead bytes: UnsafeRawBufferPointer) {
        if stream === data {
            dataBytes += bytes
            return
        }
        buffer += bytes
        while let newline = buffer.firstIndex(of: 10), control != nil {
            var line = Array(buffer[..<newline])
            buffer.removeFirst(newline + 1)
            if line.last == 13 { line.removeLast() }
            handle(String(decoding: line, as: UTF8.self))
        }
    }

    private func handle(_ command: String) {
        server.record(command)
        let verb = String(command.prefix { $0 != " " })
        let argument = command.count > verb.count ? String(command.dropFirst(verb.count + 1)) : ""
        // A REST offset holds for the very next command only (RFC 959 §4.1.3), taken or refused.
        restartForThis = restart
        restart = nil
        if let steps = server.script(command) {
            for step in steps { play(step, verb: verb, argument: argument) }
            return
        }
        ordinary(verb, argument)
    }

    private func play(_ step: ScriptedFTPServer.Step, verb: String, argument: String) {
        switch step {
        case .reply(let text): reply(text)
        case .drop: close()
        case .passiveToNowhere:
            if let probe = try? TCPListener(loop: server.loop, address: server.listener.localAddress.withPort(0)) {
                let port = probe.localAddress.port
                probe.close()
                reply("229 Entering Extended Passive Mode (|||\(port)|)")
            }
        case .store(let answer): store(argument, answer: answer)
        case .storeThenDrop: store(argument, answer: nil, drop: true)
        }
    }

    private func ordinary(_ verb: String, _ argument: String) {
        let path = ScriptedFTPServer.absolute(argument)
        switch verb {
        case "USER": reply("331 password please")
        case "PASS": reply("230 logged in")
        case "FEAT": reply("211-Features:\r\n SIZE\r\n EPSV\r\n REST STREAM\r\n211 End")
        case "REST":
            guard let offset = Int(argument), offset >= 0 else { return reply("501 bad offset") }
            restart = offset
            reply("350 Restart position accepted (\(offset)).")
        case "TYPE": reply("200 binary")
        case "MKD": reply("257 created")
        case "EPSV":
            if let port = openPassive() { reply("229 Entering Extended Passive Mode (|||\(port)|)") }
        case "PASV":
            if let port = openPassive() { reply("227 Entering Passive Mode (203,0,113,9,\(port / 256),\(port % 256))") }
        case "STOR": store(argument, answer: server.storeAnswer)
        case "NLST":
            guard passive != nil || data != nil else { return reply("425 use EPSV first") }
            let directory = argument.hasPrefix("-a") ? String(argument.dropFirst(2).drop { $0 == " " }) : argument
            listing = server.names(in: directory)
            reply("150 listing")
            sendListingIfReady()
        case "SIZE":
            guard let bytes = server.files[path] else { return reply("550 no such file") }
            reply("213 \(bytes.count)")
        case "RNFR":
            guard server.files[path] != nil else { return reply("550 no such file") }
            renameFrom = path
            reply("350 ready")
        case "RNTO":
            guard let from = renameFrom, let bytes = server.files[from] else { return reply("503 RNFR first") }
            renameFrom = nil
            server.files[from] = nil
            server.files[path] = bytes
            reply("250 renamed")
        case "DELE":
            guard server.files.removeValue(forKey: path) != nil else { return reply("550 no such file") }
            reply("250 deleted")
        case "QUIT":
            reply("221 bye")
            control?.closeGracefully()
            control = nil
            dataClosed()
        default: reply("502 not here")
        }
    }

    private func reply(_ text: String) {
        control?.write(text + "\r\n")
    }

    private func openPassive() -> Int? {
        guard let listener = try? TCPListener(loop: server.loop, address: server.listener.localAddress.withPort(0))
        else {
            reply("425 no port")
            return nil
        }
        passive?.close()
        passive = listener
        dataBytes = []
        dataEnded = false
        try? listener.startAccepting { [unowned self] connection in
            self.data = connection
            connection.delegate = self
            listener.close()
            self.passive = nil
            self.sendListingIfReady()
        }
        return listener.localAddress.port
    }

    private func store(_ argument: String, answer: String?, drop: Bool = false) {
        storeOffset = restartForThis ?? 0
        if storeOffset > 0 && (server.files[ScriptedFTPServer.absolute(argument)]?.count ?? 0) < storeOffset {
            storeOffset = 0
            return reply("554 restart offset beyond the file")
        }
        storing = (argument, answer, drop)
        reply("150 go ahead")
        finishStoreIfDone()
    }

    private func finishStoreIfDone() {
        guard dataEnded, let (argument, answer, drop) = storing else { return }
        server.stored[argument] = dataBytes
        let path = ScriptedFTPServer.absolute(argument)
        server.files[path] = Array((server.files[path] ?? []).prefix(storeOffset)) + dataBytes
        storing = nil
        if let answer { reply(answer) }
        if drop { close() }
    }

    private func sendListingIfReady() {
        guard let names = listing, let connection = data else { return }
        listing = nil
        connection.write(names.map { $0 + "\r\n" }.joined())
        connection.closeGracefully()
        data = nil
        reply("226 listed")
    }

    func streamDidBecomeWritable(_ stream: any ByteStream) {}

    func stream(_ stream: any ByteStream, didEnd end: StreamEnd) {
        if stream === data {
            stream.close()
            data = nil
            dataEnded = true
            finishStoreIfDone()
        } else {
            close()
        }
    }

    func close() {
        control?.close()
        control = nil
        dataClosed()
    }

    private func dataClosed() {
        passive?.close()
        passive = nil
        data?.close()
        data = nil
        server.ended(self)
    }
}
