import Foundation
@_spi(Internals) import Reactor
@_spi(Internals) import TestSupport
import Testing

/// Echoes what it reads, pausing its reads while its own write queue is full: backpressure end to end.
final class EchoServer: ByteStreamDelegate {
    let listener: TCPListener
    var connections: [TCPConnection] = []
    var maxPending = 0

    init(loop: EventLoop, address: SocketAddress) throws {
        listener = try TCPListener(loop: loop, address: address)
        try listener.startAccepting { [unowned self] connection in
            connection.delegate = self
            self.connections.append(connection)
        }
    }

    func stream(_ stream: any ByteStream, didRead bytes: UnsafeRawBufferPointer) {
        stream.write(bytes)
        maxPending = max(maxPending, stream.pendingWriteBytes)
        if !stream.isWritable { stream.pauseReading() }
    }

    func streamDidBecomeWritable(_ stream: any ByteStream) { stream.resumeReading() }

    func stream(_ stream: any ByteStream, didEnd end: StreamEnd) {
        stream.shutdownOutput()
    }

    func close() {
        listener.close()
        for connection in connections { connection.close() }
    }
}

/// Writes `total` bytes of a known pattern as fast as backpressure allows, reads the echo slowly, and checks it.
final class SlowEchoClient: ByteStreamDelegate {
    let connection: TCPConnection
    let total: Int
    let chunk: [UInt8]
    var sent = 0
    var received = 0
    var mismatch: Int?
    var maxPending = 0
    var reads = 0
    let finished: (SlowEchoClient, StreamEnd?) -> Void

    init(connection: TCPConnection, total: Int, finished: @escaping (SlowEchoClient, StreamEnd?) -> Void) {
        self.connection = connection
        self.total = total
        self.finished = finished
        chunk = (0..<(32 * 1024)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 8) }
        connection.delegate = self
    }

    func pump() {
        while sent < total && connection.isWritable {
            let count = min(chunk.count, total - sent)
            chunk.withUnsafeBytes { connection.write(UnsafeRawBufferPointer(rebasing: $0[..<count])) }
            sent += count
            maxPending = max(maxPending, connection.pendingWriteBytes)
        }
        if sent == total { connection.shutdownOutput() }
    }

    func stream(_ stream: any ByteStream, didRead bytes: UnsafeRawBufferPointer) {
        for byte in bytes {
            if mismatch == nil && byte != chunk[received % chunk.count] { mismatch = received }
            received += 1
        }
        reads += 1
        // The slow reader: every few reads, stop for a moment.
        if reads % 8 == 0 {
            connection.pauseReading()
            connection.loop.scheduleTimer(afterMilliseconds: 1) { [weak self] in self?.connection.resumeReading() }
        }
    }

    func streamDidBecomeWritable(_ stream: any ByteStream) { pump() }

    func stream(_ stream: any ByteStream, didEnd end: StreamEnd) { finished(self, end) }
}

/// Connects where the connect must fail and ends the scenario with its error; a connect that succeeds fails the
/// scenario with `unexpected`.
func connectFailure(
    loop: EventLoop, options: TCPConnector.Options = .init(), host: String, port: Int, unexpected: String,
    _ done: @escaping @Sendable (Result<ReactorError, TestFailure>) -> Void
) {
    let connector = TCPConnector(loop: loop, options: options)
    connector.connect(host: host, port: port) { result in
        _ = connector
        switch result {
        case .success(let connection):
            connection.close()
            done(.failure(TestFailure(unexpected)))
        case .failure(let error):
            done(.success(error))
        }
    }
}

@Suite("TCP: connect, echo with backpressure, failures")
struct TCPTests {
    @Test("64 MiB echoed through the loop: the writer's queue stays under its high watermark, every byte right")
    func echoWithBackpressure() async throws {
        struct Outcome: Sendable {
            var received = 0
            var mismatch: Int?
            var clientMaxPending = 0
            var serverMaxPending = 0
            var endedCleanly = false
        }
        let total = 64 * 1024 * 1024
        let limits = StreamLimits()
        let outcome: Outcome = try await onLoop(timeoutMS: 120_000) { loop, done in
            let server = try EchoServer(loop: loop, address: SocketAddress(numericHost: "127.0.0.1", port: 0)!)
            let connector = TCPConnector(loop: loop)
            connector.connect(to: [server.listener.localAddress], host: "127.0.0.1") { result in
                _ = connector
                guard case .success(let connection) = result else {
                    return done(.failure(TestFailure("connect failed: \(result)")))
                }
                let client = SlowEchoClient(connection: connection, total: total) { client, end in
                    var outcome = Outcome()
                    outcome.received = client.received
                    outcome.mismatch = client.mismatch
                    outcome.clientMaxPending = client.maxPending
                    outcome.serverMaxPending = server.maxPending
                    if case .eof = end { outcome.endedCleanly = true }
                    client.connection.close()
                    server.close()
                    done(.success(outcome))
                }
                loop.keepAlive(client)
                client.pump()
            }
        }
        #expect(outcome.endedCleanly)
        #expect(outcome.received == total)
        #expect(outcome.mismatch == nil)
        // A writer that respects isWritable overshoots the high watermark by at most one write.
        #expect(outcome.clientMaxPending <= limits.highWatermark + 32 * 1024)
        #expect(outcome.serverMaxPending <= limits.highWatermark + limits.readBufferSize)
        #expect(outcome.clientMaxPending > 0, "the slow reader should have made the writer queue something")
    }

    @Test("connecting to a closed port gives connectionRefused naming host, port and address")
    func connectRefused() async throws {
        let error: ReactorError = try await onLoop { loop, done in
            // Take a free port, then let it go: nothing listens there now.
            let probe = try TCPListener(loop: loop, address: SocketAddress(numericHost: "127.0.0.1", port: 0)!)
            let port = probe.localAddress.port
            probe.close()
            connectFailure(loop: loop, host: "127.0.0.1", port: port, unexpected: "connected to a closed port", done)
        }
        guard case .connectionRefused(let host, _, let address) = error else {
            Issue.record("expected connectionRefused, got \(error)")
            return
        }
        #expect(host == "127.0.0.1")
        #expect(address.hasPrefix("127.0.0.1:"))
        #expect(error.description.contains("refused"))
    }

    @Test("a server whose accept queue is full never answers: connectTimeout after the set time")
    func connectTimeout() async throws {
        let (error, elapsed): (ReactorError, Int) = try await onLoop { loop, done in
            // Backlog 0, never accepted: the kernel drops further SYNs once the queue holds its one entry.
            let listener = try TCPListener(
                loop: loop, address: SocketAddress(numericHost: "127.0.0.1", port: 0)!, backlog: 0)
            var fillers: [TCPConnector] = []
            var held: [TCPConnection] = []
            // Fill the queue: connections that complete sit in it; the first that cannot is our signal.
            func fill(_ remaining: Int) {
                guard remaining > 0 else { return done(.failure(TestFailure("the accept queue never filled"))) }
                let filler = TCPConnector(loop: loop, options: .init(connectTimeoutMS: 300))
                fillers.append(filler)
                filler.connect(to: [listener.localAddress], host: "127.0.0.1") { result in
                    switch result {
                    case .success(let connection):
                        held.append(connection)
                        fill(remaining - 1)
                    case .failure(.connectTimeout):
                        measure()
                    case .failure(let other):
                        done(.failure(TestFailure("filler failed: \(other)")))
                    }
                }
            }
            func measure() {
                let start = DispatchTime.now().uptimeNanoseconds
                let connector = TCPConnector(loop: loop, options: .init(connectTimeoutMS: 400))
                connector.connect(host: "127.0.0.1", port: listener.localAddress.port) { result in
                    _ = connector
                    let elapsed = Int((DispatchTime.now().uptimeNanoseconds - start) / 1_000_000)
                    for connection in held { connection.close() }
                    listener.close()
                    switch result {
                    case .success(let connection):
                        connection.close()
                        done(.failure(TestFailure("connected although the queue was full")))
                    case .failure(let error):
                        done(.success((error, elapsed)))
                    }
                }
            }
            fill(16)
        }
        #expect(error == .connectTimeout(host: "127.0.0.1", port: error.port, milliseconds: 400))
        #expect(elapsed >= 400 && elapsed < 3000)
    }

    @Test("names resolve off the loop thread; numeric IPv4 and IPv6 literals resolve at once")
    func resolver() async throws {
        let results: [String] = try await onLoop { loop, done in
            var results: [String] = []
            let resolvers = (0..<3).map { _ in Resolver(loop: loop) }
            loop.keepAlive(resolvers as AnyObject)
            func record(_ result: Result<[SocketAddress], ReactorError>) {
                switch result {
                case .success(let addresses):
                    results.append(addresses.map(\.description).sorted().joined(separator: " "))
                case .failure(let error): results.append("error: \(error)")
                }
                if results.count == 3 { done(.success(results)) }
            }
            resolvers[0].resolve(host: "localhost", port: 80, timeoutMS: 5000) { record($0) }
            resolvers[1].resolve(host: "::1", port: 21, timeoutMS: 5000) { record($0) }
            resolvers[2].resolve(host: "10.1.2.3", port: 8080, timeoutMS: 5000) { record($0) }
        }
        #expect(results.contains("[::1]:21"))
        #expect(results.contains("10.1.2.3:8080"))
        #expect(results.contains { $0.contains("127.0.0.1:80") })
    }

    @Test("a name that does not exist fails with resolveFailed naming it")
    func resolveFailure() async throws {
        let error: ReactorError = try await onLoop { loop, done in
            connectFailure(
                loop: loop, options: .init(connectTimeoutMS: 8000), host: "no-such-host.invalid", port: 80,
                unexpected: "resolved a .invalid name", done)
        }
        guard case .resolveFailed(let host, _) = error else {
            Issue.record("expected resolveFailed, got \(error)")
            return
        }
        #expect(host == "no-such-host.invalid")
    }

    @Test("a peer that resets ends the stream with StreamError.reset naming it; the query gives its address")
    func resetIsTyped() async throws {
        let outcome: String = try await onLoop { loop, done in
            let listener = try TCPListener(loop: loop, address: SocketAddress(numericHost: "127.0.0.1", port: 0)!)
            loop.keepAlive(listener)
            try listener.startAccepting { accepted in
                // Unread bytes plus SO_LINGER 0: the kernel answers with RST.
                loop.scheduleTimer(afterMilliseconds: 20) { accepted.reset() }
            }
            TCPConnector(loop: loop).connect(host: "127.0.0.1", port: listener.localAddress.port) { result in
                guard case .success(let connection) = result else {
                    return done(.failure(TestFailure("connect failed: \(result)")))
                }
                let recorder = RecordingDelegate()
                loop.keepAlive(recorder)
                connection.delegate = recorder
                let stream: any ByteStream = connection
                let query = "\(stream.peerAddress == connection.peer) \(stream.tls == nil)"
                recorder.onEnd = { end in
                    listener.close()
                    guard case .failed(let error) = end else { return done(.success("\(query) \(end)")) }
                    done(.success("\(query) \(error == .reset(peer: connection.peer.description)) \(error)"))
                }
                connection.write("hello")
            }
        }
        #expect(outcome.hasPrefix("true true true connection reset by 127.0.0.1:"), "\(outcome)")
    }

    @Test("IPv6: connect over [::1] and exchange bytes")
    func ipv6Loopback() async throws {
        let echoed: String = try await onLoop { loop, done in
            let server = try EchoServer(loop: loop, address: SocketAddress(numericHost: "::1", port: 0)!)
            let connector = TCPConnector(loop: loop)
            connector.connect(host: "::1", port: server.listener.localAddress.port) { result in
                _ = connector
                guard case .success(let connection) = result else {
                    return done(.failure(TestFailure("connect failed: \(result)")))
                }
                let recorder = RecordingDelegate()
                loop.keepAlive(recorder)
                connection.delegate = recorder
                recorder.onEnd = { _ in
                    _ = recorder
                    connection.close()
                    server.close()
                    done(.success("\(connection.peer.family == AF_INET6) \(recorder.text)"))
                }
                connection.write("hello over IPv6")
                connection.shutdownOutput()
            }
        }
        #expect(echoed == "true hello over IPv6")
    }

    @Test("addresses are tried with families interleaved, and a dead first address falls through to a live one")
    func fallsThroughAddresses() async throws {
        let peer: String = try await onLoop { loop, done in
            let server = try EchoServer(loop: loop, address: SocketAddress(numericHost: "127.0.0.1", port: 0)!)
            let dead = try TCPListener(loop: loop, address: SocketAddress(numericHost: "::1", port: 0)!)
            let deadAddress = dead.localAddress
            dead.close()
            let connector = TCPConnector(loop: loop, options: .init(attemptDelayMS: 5_000))
            connector.connect(to: [deadAddress, server.listener.localAddress], host: "test") { result in
                _ = connector
                switch result {
                case .success(let connection):
                    let peer = connection.peer.description
                    connection.close()
                    server.close()
                    done(.success(peer))
                case .failure(let error):
                    done(.failure(TestFailure("\(error)")))
                }
            }
        }
        #expect(peer.hasPrefix("127.0.0.1:"))
    }
}

extension ReactorError {
    var port: Int {
        if case .connectTimeout(_, let port, _) = self { return port }
        return -1
    }
}
