import Foundation
@_spi(Internals) import Reactor
@_spi(Internals) import TLS
@_spi(Internals) import TestSupport
import Testing

/// Talks to the test vsftpd line by line, as the FTP client will: replies are read until a line has the form
/// `NNN text` (a multi-line reply's last line).
final class LineConversation: ByteStreamDelegate {
    var stream: any ByteStream
    private var buffer: [UInt8] = []
    private var waiting: ((String) -> Void)?
    var end: StreamEnd?

    init(_ stream: any ByteStream) {
        self.stream = stream
        stream.delegate = self
    }

    /// Connects to the FTP server on loopback `port` and hands `body` the conversation, kept alive by the loop, and
    /// the TCP connection under it (for a TLS upgrade); a connect that fails ends the scenario through `done`.
    static func open<T>(
        on loop: EventLoop, port: Int, done: @escaping (Result<T, TestFailure>) -> Void,
        _ body: @escaping (LineConversation, TCPConnection) -> Void
    ) {
        TCPConnector(loop: loop).connect(host: "127.0.0.1", port: port) { result in
            guard case .success(let tcp) = result else { return done(.failure(TestFailure("\(result)"))) }
            let talk = LineConversation(tcp)
            loop.keepAlive(talk)
            body(talk, tcp)
        }
    }

    func send(_ line: String, then: @escaping (String) -> Void) {
        waiting = then
        stream.write(line + "\r\n")
    }

    /// USER, then PASS once USER is answered, as the test user; `record` gets both replies, `then` runs after the
    /// second.
    func logIn(record: @escaping (String) -> Void, then: @escaping () -> Void) {
        send("USER \(TestEnv.ftpUser)") { reply in
            record(reply)
            self.send("PASS \(TestEnv.ftpPassword)") { reply in
                record(reply)
                then()
            }
        }
    }

    func expectReply(_ then: @escaping (String) -> Void) {
        waiting = then
        deliver()
    }

    /// Hands the stream to a new layer (TLS after AUTH TLS); this object stops listening to the old one.
    func adopt(_ newStream: any ByteStream) {
        stream = newStream
        newStream.delegate = self
    }

    func stream(_ stream: any ByteStream, didRead bytes: UnsafeRawBufferPointer) {
        buffer += bytes
        deliver()
    }

    func streamDidBecomeWritable(_ stream: any ByteStream) {}

    func stream(_ stream: any ByteStream, didEnd end: StreamEnd) {
        self.end = end
        waiting?("ended: \(end)")
        waiting = nil
    }

    private func deliver() {
        guard let waiting else { return }
        let text = String(decoding: buffer, as: UTF8.self)
        let lines = text.components(separatedBy: "\r\n")
        guard lines.count > 1 else { return }
        for (index, line) in lines.dropLast().enumerated() {
            let characters = Array(line)
            if characters.count >= 4, characters[0...2].allSatisfy(\.isNumber), characters[3] == " " {
                let consumed = lines[0...index].joined(separator: "\r\n").utf8.count + 2
                buffer.removeFirst(consumed)
                self.waiting = nil
                waiting(line)
                return
            }
        }
    }
}

@Suite("Explicit TLS on the test vsftpd (AUTH TLS upgrades a live TCP stream)")
struct ExplicitTLSTests {
    @Test("the FTPS server accepts a login after AUTH TLS, verified with the test CA")
    func authTLSUpgrade() async throws {
        try TestEnv.require(.vsftpd)
        let context = try TLSContext(.client(additionalCAFile: TestEnv.caFile))
        let transcript: [String] = try await onLoop { loop, done in
            var transcript: [String] = []
            LineConversation.open(on: loop, port: TestEnv.ftpsPort, done: done) { talk, tcp in
                talk.expectReply { banner in
                    transcript.append(banner)
                    talk.send("AUTH TLS") { reply in
                        transcript.append(reply)
                        guard reply.hasPrefix("234") else { return done(.success(transcript)) }
                        tcp.delegate = nil
                        TLSStream.connect(over: tcp, context: context, serverName: "127.0.0.1") { result in
                            guard case .success(let tls) = result else {
                                return done(.failure(TestFailure("TLS: \(result)")))
                            }
                            talk.adopt(tls)
                            talk.logIn(record: { transcript.append($0) }) {
                                talk.send("QUIT") { reply in
                                    transcript.append(reply)
                                    tls.close()
                                    done(.success(transcript))
                                }
                            }
                        }
                    }
                }
            }
        }
        #expect(transcript.map { String($0.prefix(3)) } == ["220", "234", "331", "230", "221"], "\(transcript)")
    }

    @Test("the FTPS server refuses a login before AUTH TLS")
    func plaintextLoginRefused() async throws {
        try TestEnv.require(.vsftpd)
        let user = TestEnv.ftpUser
        let reply: String = try await onLoop { loop, done in
            LineConversation.open(on: loop, port: TestEnv.ftpsPort, done: done) { talk, tcp in
                talk.expectReply { _ in
                    talk.send("USER \(user)") { reply in
                        tcp.close()
                        done(.success(reply))
                    }
                }
            }
        }
        #expect(reply.hasPrefix("530"), "\(reply)")
    }

    @Test("the plain FTP server logs in without TLS")
    func plainLogin() async throws {
        try TestEnv.require(.vsftpdPlain)
        let codes: [String] = try await onLoop { loop, done in
            var codes: [String] = []
            LineConversation.open(on: loop, port: TestEnv.ftpPort, done: done) { talk, tcp in
                talk.expectReply { banner in
                    codes.append(String(banner.prefix(3)))
                    talk.logIn(record: { codes.append(String($0.prefix(3))) }) {
                        tcp.close()
                        done(.success(codes))
                    }
                }
            }
        }
        #expect(codes == ["220", "331", "230"])
    }

    @Test(
        "a data connection that resumes the control session passes vsftpd's require_ssl_reuse; one that does not fails",
        arguments: [TLSConfiguration.Version.tls12, .tls13], [true, false])
    func dataChannelSessionReuse(version: TLSConfiguration.Version, reuse: Bool) async throws {
        try TestEnv.require(.vsftpd)
        let context = try TLSContext(.client(additionalCAFile: TestEnv.caFile, maximumVersion: version))
        let (user, password) = (TestEnv.ftpUser, TestEnv.ftpPassword)
        let name = "reuse-\(version)-\(UInt32.random(in: 0...UInt32.max)).csv"
        let payload = String(repeating: "a,b,c\n", count: 50_000)
        let outcome: [String] = try await onLoop { loop, done in
            var log: [String] = []
            func fail(_ what: String) { done(.failure(TestFailure("\(what); so far \(log)"))) }
            LineConversation.open(on: loop, port: TestEnv.ftpsPort, done: done) { talk, tcp in
                var steps = ["AUTH TLS", "USER \(user)", "PASS \(password)", "PBSZ 0", "PROT P", "TYPE I", "EPSV"]
                func next(_ reply: String) {
                    log.append(String(reply.prefix(3)))
                    if steps.isEmpty { return openData(reply) }
                    let command = steps.removeFirst()
                    if command == "USER \(user)" {
                        // The reply to AUTH TLS just came: from here on the control connection speaks TLS.
                        tcp.delegate = nil
                        TLSStream.connect(over: tcp, context: context, serverName: "127.0.0.1") { result in
                            guard case .success(let tls) = result else { return fail("control TLS: \(result)") }
                            talk.adopt(tls)
                            talk.send(command, then: next)
                        }
                    } else {
                        talk.send(command, then: next)
                    }
                }
                func openData(_ epsv: String) {
                    // 229 Entering Extended Passive Mode (|||port|)
                    guard let port = epsv.split(separator: "|").compactMap({ Int($0) }).first else {
                        return fail("EPSV reply \(epsv)")
                    }
                    guard let control = talk.stream as? TLSStream, let session = control.resumableSession else {
                        return fail("no resumable control session")
                    }
                    TCPConnector(loop: loop).connect(host: "127.0.0.1", port: port) { result in
                        guard case .success(let dataTCP) = result else { return fail("data connect: \(result)") }
                        talk.send("STOR \(name)") { reply in
                            log.append(String(reply.prefix(3)))
                            guard reply.hasPrefix("150") else { return done(.success(log)) }
                            talk.expectReply { final in
                                log.append(String(final.prefix(3)))
                                done(.success(log))
                            }
                        }
                        TLSStream.connect(
                            over: dataTCP, context: context, serverName: "127.0.0.1", session: reuse ? session : nil
                        ) { result in
                            guard case .success(let data) = result else { return log.append("data TLS failed") }
                            log.append(data.tls?.sessionResumed == true ? "resumed" : "not resumed")
                            data.write(payload)
                            data.closeGracefully(timeoutMS: 5000)
                        }
                    }
                }
                talk.expectReply(next)
            }
        }
        // The data handshake and the 150 reply race each other: compare the control replies in order,
        // the rest as a set.
        let replies = outcome.filter { $0.first?.isNumber == true }
        let path = TestEnv.directory + "/ftp-home/" + name
        defer { try? FileManager.default.removeItem(atPath: path) }
        if reuse {
            #expect(replies == ["220", "234", "331", "230", "200", "200", "200", "229", "150", "226"], "\(outcome)")
            #expect(outcome.contains("resumed"), "\(outcome)")
            #expect(try String(contentsOfFile: path, encoding: .utf8) == payload)
        } else {
            #expect(replies.last == "522", "vsftpd should refuse the data connection: \(outcome)")
            #expect(!outcome.contains("resumed"), "\(outcome)")
        }
    }
}
