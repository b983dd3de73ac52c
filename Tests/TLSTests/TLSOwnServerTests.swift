import Foundation
@_spi(Internals) import Reactor
@_spi(Internals) import TLS
@_spi(Internals) import TestSupport
import Testing

/// How the server side of a scenario ends the connection after sending its greeting.
enum ServerEnding: Sendable {
    case closeNotify
    case abruptClose
    case neverHandshake
}

/// A one-connection TLS server on the loop that sends "hello" and ends as told; returns what the client saw.
func clientAgainstOwnServer(
    certificate: String = TestEnv.serverCertificate, key: String = TestEnv.serverKey, ending: ServerEnding,
    handshakeTimeoutMS: Int = 5_000
) async throws -> String {
    try TestEnv.requireServer(port: TestEnv.httpsPort, "test servers (for the test CA)")
    let serverContext = try TLSContext(.server(certificateChainFile: certificate, privateKeyFile: key))
    let clientContext = try TLSContext(.client(additionalCAFile: TestEnv.caFile))
    return try await onLoop { loop, done in
        let listener = try TCPListener(loop: loop, address: SocketAddress(numericHost: "127.0.0.1", port: 0)!)
        loop.keepAlive(listener)
        var accepted: [AnyObject] = []
        try listener.startAccepting { connection in
            accepted.append(connection)
            if case .neverHandshake = ending { return }  // accept, then say nothing at all
            TLSStream.accept(over: connection, context: serverContext) { result in
                guard case .success(let server) = result else { return }
                accepted.append(server)
                server.write("hello")
                switch ending {
                case .closeNotify: server.closeGracefully(timeoutMS: 1000)
                case .abruptClose: loop.scheduleTimer(afterMilliseconds: 20) { server.close() }
                case .neverHandshake: break
                }
            }
        }
        TLSStream.connect(
            loop: loop, host: "127.0.0.1", port: listener.localAddress.port, context: clientContext,
            handshakeTimeoutMS: handshakeTimeoutMS
        ) { result in
            switch result {
            case .failure(let error):
                listener.close()
                done(.success("handshake: \(error)"))
            case .success(let client):
                let recorder = RecordingDelegate()
                loop.keepAlive(recorder)
                client.delegate = recorder
                recorder.onEnd = { end in
                    client.close()
                    listener.close()
                    switch end {
                    case .eof: done(.success("\(recorder.text) eof"))
                    case .failed(.tls(let failure)):
                        let facts = "\(failure.kind) \(failure.host) transient=\(failure.isTransient)"
                        done(.success("\(recorder.text) failed (\(facts)): \(failure)"))
                    case .failed(let error): done(.success("\(recorder.text) failed: \(error)"))
                    }
                }
            }
        }
    }
}

@Suite("TLS against purpose-built servers")
struct TLSOwnServerTests {
    @Test("a peer that ends with close_notify ends the stream cleanly")
    func cleanShutdown() async throws {
        let outcome = try await clientAgainstOwnServer(ending: .closeNotify)
        #expect(outcome == "hello eof")
    }

    @Test("a peer that closes without close_notify gives a distinct error: the data may be truncated")
    func closeWithoutNotify() async throws {
        let outcome = try await clientAgainstOwnServer(ending: .abruptClose)
        #expect(
            outcome
                == "hello failed (closedWithoutCloseNotify 127.0.0.1 transient=true): "
                + "127.0.0.1 closed the TLS connection without close_notify: the data may be truncated")
    }

    @Test("an expired certificate fails verification as expired")
    func expiredCertificate() async throws {
        let outcome = try await clientAgainstOwnServer(
            certificate: TestEnv.expiredCertificate, key: TestEnv.expiredKey, ending: .closeNotify)
        #expect(outcome == "handshake: TLS verification of 127.0.0.1 failed: certificate has expired")
    }

    @Test("a server that accepts but never answers the handshake times out")
    func handshakeTimeout() async throws {
        let outcome = try await clientAgainstOwnServer(ending: .neverHandshake, handshakeTimeoutMS: 300)
        #expect(outcome == "handshake: TLS handshake with 127.0.0.1 timed out after 300 ms")
    }
}

@Suite("TLS engine in memory (no sockets)")
struct TLSEngineMemoryTests {
    /// Moves ciphertext between two engines until both handshakes finish.
    func handshake(_ client: TLSEngine, _ server: TLSEngine) throws {
        for _ in 0..<20 {
            let clientStatus = client.handshake()
            client.takeOutput { server.feed($0) }
            let serverStatus = server.handshake()
            server.takeOutput { client.feed($0) }
            if clientStatus == .complete && serverStatus == .complete { return }
            if case .failed(let error) = clientStatus { throw error }
            if case .failed(let error) = serverStatus { throw error }
        }
        throw TestFailure("handshake did not finish in 20 rounds")
    }

    func read(_ engine: TLSEngine) -> [UInt8] {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let result = buffer.withUnsafeMutableBytes { engine.read(into: $0) }
            guard case .bytes(let count) = result else { return bytes }
            bytes += buffer[..<count]
        }
    }

    @Test(
        "handshake, data both ways, close_notify, and a resumed second session",
        arguments: [TLSConfiguration.Version.tls12, .tls13])
    func inMemory(version: TLSConfiguration.Version) throws {
        try TestEnv.requireServer(port: TestEnv.httpsPort, "test servers (for the test certificates)")
        let serverContext = try TLSContext(
            .server(
                certificateChainFile: TestEnv.serverCertificate, privateKeyFile: TestEnv.serverKey,
                maximumVersion: version))
        let clientContext = try TLSContext(.client(additionalCAFile: TestEnv.caFile))

        let client = try TLSEngine(context: clientContext, serverName: "localhost")
        let server = try TLSEngine(serverContext: serverContext)
        try handshake(client, server)
        #expect(!client.isSessionResumed)

        let message = Array("id,name\n1,Ann\n".utf8)
        #expect(message.withUnsafeBytes { client.write($0) } == .complete)
        client.takeOutput { server.feed($0) }
        #expect(read(server) == message)

        #expect(Array("ok".utf8).withUnsafeBytes { server.write($0) } == .complete)
        server.takeOutput { client.feed($0) }
        #expect(read(client) == Array("ok".utf8))  // under TLS 1.3 this read also takes in the session tickets

        server.shutdown()
        server.takeOutput { client.feed($0) }
        var scratch = [UInt8](repeating: 0, count: 16)
        #expect(scratch.withUnsafeMutableBytes { client.read(into: $0) } == .closed)

        let session = try #require(client.resumableSession)
        let again = try TLSEngine(context: clientContext, serverName: "localhost", session: session)
        let server2 = try TLSEngine(serverContext: serverContext)
        try handshake(again, server2)
        #expect(again.isSessionResumed)
        #expect(again.protocolVersion == (version == .tls12 ? "TLSv1.2" : "TLSv1.3"))
    }

    @Test("a transport that ends mid-stream without close_notify is reported as such")
    func truncation() throws {
        try TestEnv.requireServer(port: TestEnv.httpsPort, "test servers (for the test certificates)")
        let serverContext = try TLSContext(
            .server(certificateChainFile: TestEnv.serverCertificate, privateKeyFile: TestEnv.serverKey))
        let client = try TLSEngine(
            context: TLSContext(.client(additionalCAFile: TestEnv.caFile)), serverName: "127.0.0.1")
        let server = try TLSEngine(serverContext: serverContext)
        try handshake(client, server)
        _ = Array("partial".utf8).withUnsafeBytes { server.write($0) }
        server.takeOutput { client.feed($0) }
        client.endOfInput()
        #expect(read(client) == Array("partial".utf8))
        var scratch = [UInt8](repeating: 0, count: 16)
        #expect(
            scratch.withUnsafeMutableBytes { client.read(into: $0) }
                == .failed(.closedWithoutCloseNotify(host: "127.0.0.1")))
    }
}

@Suite("TLS close: the socket waits for the peer's FIN after its close_notify")
struct TLSCloseOrderTests {
    @Test(
        """
        a graceful close that ends on the peer's close_notify keeps the TCP socket until the peer's FIN is read: \
        closing at once races that FIN, which the kernel may drop, and the peer resends it 200 ms later
        """
    )
    func socketOutlivesCloseNotify() async throws {
        try TestEnv.requireServer(port: TestEnv.httpsPort, "test servers (for the test CA)")
        let serverContext = try TLSContext(
            .server(certificateChainFile: TestEnv.serverCertificate, privateKeyFile: TestEnv.serverKey))
        let clientContext = try TLSContext(.client(additionalCAFile: TestEnv.caFile))
        let seen = try await onLoop { loop, done in
            let listener = try TCPListener(loop: loop, address: SocketAddress(numericHost: "127.0.0.1", port: 0)!)
            loop.keepAlive(listener)
            var kept: [AnyObject] = []
            try listener.startAccepting { connection in
                kept.append(connection)
                TLSStream.accept(over: connection, context: serverContext) { result in
                    guard case .success(let server) = result else { return }
                    kept.append(server)
                    // Like vsftpd after an upload: read to the client's end, then close_notify and FIN.
                    server.closeGracefully(timeoutMS: 2_000)
                }
            }
            TCPConnector(loop: loop).connect(host: "127.0.0.1", port: listener.localAddress.port) { result in
                guard case .success(let tcp) = result else { return done(.success("connect failed")) }
                TLSStream.connect(over: tcp, context: clientContext, serverName: "localhost") { result in
                    guard case .success(let client) = result else { return done(.success("handshake failed")) }
                    // The FTP data channel's way: close_notify and FIN, then read until the server's end.
                    client.closeGracefully(timeoutMS: 2_000) { end in
                        let atClose = tcp.isOpen
                        loop.scheduleTimer(afterMilliseconds: 1_000) {
                            listener.close()
                            done(
                                .success("end=\(String(describing: end)) open at close=\(atClose) later=\(tcp.isOpen)"))
                        }
                    }
                }
            }
        }
        #expect(seen == "end=Optional(Reactor.StreamEnd.eof) open at close=true later=false", "\(seen)")
    }
}
