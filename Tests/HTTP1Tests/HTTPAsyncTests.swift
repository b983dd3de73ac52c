import Foundation
import Glibc
@_spi(Internals) import HTTP1
@_spi(Internals) import Reactor
@_spi(Internals) import TestSupport
import Testing

/// A client on a loop thread of its own, driven through its async handle as an embedder would, plus a way to look at
/// the loop (its registered descriptors, the pool) from the test.
/// A request ended by a cancel: `.cancelled`, and the client left with no connection, idle or registered.
private func expectCancelled<T>(
    _ result: Result<T, any Error>, leaving async: AsyncClient, at location: SourceLocation
) async throws {
    guard case .failure(let error) = result, case .cancelled? = error as? HTTPError else {
        Issue.record("expected .cancelled, got \(result)", sourceLocation: location)
        return
    }
    let state = try await async.settled(idle: 0, registered: 0)
    #expect(state == (0, 0), sourceLocation: location)
}

private struct AsyncClient: Sendable {
    let thread: EventLoopThread
    let client: LoopBound<HTTPClient>
    let handle: HTTPClientHandle

    init() async throws {
        thread = try EventLoopThread()
        let made = try await thread.onLoop { loop in
            let client = HTTPClient(loop: loop, configuration: testClientConfiguration())
            return (LoopBound(client), client.handle)
        }
        client = made.0
        handle = made.1
    }

    /// (idle pooled connections, descriptors registered on the loop), once both settle or after two seconds.
    func settled(idle: Int, registered: Int) async throws -> (idle: Int, registered: Int) {
        var seen = (idle: -1, registered: -1)
        for _ in 0..<200 {
            let client = client
            seen = try await thread.onLoop { loop in (client.object.idleConnectionCount, loop.registeredCount) }
            if seen == (idle, registered) { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        return seen
    }

    func collect(_ body: some AsyncSequence<[UInt8], HTTPError>, pauseEvery: Int = 0) async throws(HTTPError) -> [UInt8]
    {
        var all: [UInt8] = []
        var chunks = 0
        for try await chunk in body {
            all += chunk
            chunks += 1
            if pauseEvery > 0 && chunks % pauseEvery == 0 { try? await Task.sleep(for: .milliseconds(2)) }
        }
        return all
    }
}

/// A plain blocking server on a thread: answers one request with a 200 and `size` bytes, written in 64 KiB blocks
/// into a small send buffer, and counts what the kernel took so far (how far the client let it get).
private final class CountingServer: Sendable {
    let port: Int
    let written = Locked(0)
    private let listenFD: Int32

    init(size: Int) throws {
        let listenFD = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.listenFD = listenFD
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
                bind(listenFD, raw, length) == 0 && listen(listenFD, 1) == 0
                    && getsockname(listenFD, raw, &length) == 0
            }
        }
        guard bound else { throw TestFailure("counting server: bind failed") }
        port = Int(UInt16(bigEndian: address.sin_port))
        let written = written
        Thread.detachNewThread {
            let fd = accept(listenFD, nil, nil)
            guard fd >= 0 else { return }
            defer { close(fd) }
            var small: Int32 = 64 * 1024
            setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &small, socklen_t(MemoryLayout<Int32>.size))
            var head: [UInt8] = []
            var byte: UInt8 = 0
            while !head.ends(with: Array("\r\n\r\n".utf8)), read(fd, &byte, 1) == 1 { head.append(byte) }
            let reply = Array("HTTP/1.1 200 OK\r\nContent-Length: \(size)\r\n\r\n".utf8)
            guard send(fd, reply, reply.count, Int32(MSG_NOSIGNAL)) == reply.count else { return }
            let block = [UInt8](repeating: UInt8(ascii: "x"), count: 64 * 1024)
            var left = size
            while left > 0 {
                let sent = block.withUnsafeBytes { send(fd, $0.baseAddress, min(left, $0.count), Int32(MSG_NOSIGNAL)) }
                guard sent > 0 else { return }
                left -= sent
                written.withLock { $0 += sent }
            }
        }
    }

    deinit { close(listenFD) }
}

extension Array where Element == UInt8 {
    fileprivate func ends(with suffix: [UInt8]) -> Bool {
        count >= suffix.count && Array(self[(count - suffix.count)...]) == suffix
    }
}

/// A scripted server on a loop thread of its own, so that the client's loop holds only the client's descriptors.
private func scriptedServer(
    _ script: @escaping @Sendable (Int, String) -> [ScriptedServer.Step]
) async throws -> (thread: EventLoopThread, port: Int) {
    let thread = try EventLoopThread()
    let port = try await thread.onLoop { loop in try ScriptedServer(loop: loop, script: script).port }
    return (thread, port)
}

@Suite("HTTP client, async: bodies pulled with backpressure, cancellation, teardown")
struct HTTPAsyncTests {
    @Test(
        "a body read through the handle is byte-exact, and the connection goes back to the pool",
        arguments: [
            "http", "https",
        ])
    func wholeBody(scheme: String) async throws {
        try TestEnv.require(.nginxHTTP, .nginxHTTPS)
        let async = try await AsyncClient()
        let base = scheme == "http" ? httpBase : httpsBase
        let response = try await async.handle.execute(HTTPRequest(try HTTPURL(base + "/large.csv")))
        #expect(response.head.status == 200)
        let body = try await async.collect(response.body, pauseEvery: 3)
        #expect(Data(body) == (try wwwFile("large.csv")))
        let state = try await async.settled(idle: 1, registered: 1)
        #expect(state == (1, 1), "a whole body leaves its connection pooled")
        await async.handle.shutdown()
        let after = try await async.settled(idle: 0, registered: 0)
        #expect(after == (0, 0), "shutdown closes the pooled connection")
    }

    @Test("a body dropped after its first chunk closes its connection, which never reaches the pool")
    func droppedEarly() async throws {
        try TestEnv.require(.nginxHTTPS)
        let async = try await AsyncClient()
        do {
            let response = try await async.handle.execute(HTTPRequest(try HTTPURL(httpsBase + "/large.csv")))
            var iterator = response.body.makeAsyncIterator()
            let first = try await iterator.next()
            #expect(first?.isEmpty == false)
        }
        let state = try await async.settled(idle: 0, registered: 0)
        #expect(state == (0, 0), "the dropped body's connection is still open or pooled")
    }

    @Test("while the consumer waits, the socket is not read: the server gets only as far as the buffers allow")
    func backpressure() async throws {
        let size = 64 * 1024 * 1024
        let server = try CountingServer(size: size)
        let async = try await AsyncClient()
        let response = try await async.handle.execute(HTTPRequest(try HTTPURL("http://127.0.0.1:\(server.port)/")))
        var iterator = response.body.makeAsyncIterator()
        var total = try await iterator.next()?.count ?? 0
        try await Task.sleep(for: .milliseconds(500))
        let whilePaused = server.written.value
        // Kernel buffers on both sides (a few MiB at most) and one read: far from the 64 MiB a free read would take.
        #expect(whilePaused < 16 * 1024 * 1024, "\(whilePaused) bytes sent while the consumer waited")
        while let chunk = try await iterator.next() { total += chunk.count }
        #expect(total == size)
        #expect(server.written.value == size)
        await async.handle.shutdown()
    }

    @Test("cancelling the Task that reads a body ends it with .cancelled at once and closes the connection")
    func cancelMidBody() async throws {
        let server = try await scriptedServer { _, _ in
            [.send(okHead + "Content-Length: 1000\r\n\r\n0123456789"), .hang]
        }
        defer { server.thread.shutdown() }
        let async = try await AsyncClient()
        let response = try await async.handle.execute(
            HTTPRequest(try HTTPURL("http://127.0.0.1:\(server.port)/data.csv")))
        let started = Locked(false)
        let reader = Task { () async throws -> Int in
            var bytes = 0
            for try await chunk in response.body {
                bytes += chunk.count
                started.withLock { $0 = true }
            }
            return bytes
        }
        while !started.value { try await Task.sleep(for: .milliseconds(5)) }
        let clock = ContinuousClock()
        let before = clock.now
        reader.cancel()
        let result = await reader.result
        #expect(clock.now - before < .seconds(2), "the idle timeout (5 s) ended it, not the cancel")
        try await expectCancelled(result, leaving: async, at: #_sourceLocation)
    }

    @Test("cancelling the Task that waits for the head ends the request with .cancelled")
    func cancelBeforeHead() async throws {
        let server = try await scriptedServer { _, _ in [.hang] }
        defer { server.thread.shutdown() }
        let async = try await AsyncClient()
        let url = try HTTPURL("http://127.0.0.1:\(server.port)/data.csv")
        let waiting = Task { () async throws -> Int in
            try await async.handle.execute(HTTPRequest(url)).head.status
        }
        try await Task.sleep(for: .milliseconds(100))
        waiting.cancel()
        let result = await waiting.result
        try await expectCancelled(result, leaving: async, at: #_sourceLocation)
    }

    @Test("shutting the loop down ends a request waiting for its head and a body being read: both throw")
    func loopShutdownEndsWaiters() async throws {
        let server = try await scriptedServer { _, path in
            path.contains("head") ? [.hang] : [.send(okHead + "Content-Length: 1000\r\n\r\n0123456789"), .hang]
        }
        defer { server.thread.shutdown() }
        let async = try await AsyncClient()
        let handle = async.handle
        let base = "http://127.0.0.1:\(server.port)"
        let response = try await handle.execute(HTTPRequest(try HTTPURL(base + "/body.csv")))
        let reading = Task { try await async.collect(response.body).count }
        let waitingForHead = Task { try await handle.execute(HTTPRequest(try HTTPURL(base + "/head.csv"))).head.status }
        try await Task.sleep(for: .milliseconds(200))
        async.thread.shutdown()
        let read = try await outcome(within: 60) { try await reading.value }
        let head = try await outcome(within: 60) { try await waitingForHead.value }
        for result in [read, head] {
            guard case .failure(let error) = result, case .cancelled? = error as? HTTPError else {
                Issue.record("expected .cancelled, got \(result)")
                continue
            }
        }
        // A request made after the loop closed fails at once instead of waiting for a loop that will never run it.
        let late = try await outcome(within: 60) { try await handle.execute(HTTPRequest(try HTTPURL(base + "/x"))) }
        guard case .failure(let error) = late, case .connect(_, .closed)? = error as? HTTPError else {
            Issue.record("expected .connect(.closed), got \(late)")
            return
        }
    }

    @Test("work posted to a loop after its last turn still runs as it closes: its caller is answered")
    func latePostsAnswered() async throws {
        let handle = try await Self.loopClosingAfterFirstPost()
        let making = Task { try await HTTPClientHandle(on: handle) }
        let made = try await outcome(within: 60) { try await making.value }
        // It ran on the closing loop: the client it made is already closed, and its requests fail with `.closed`.
        guard case .success(let client) = made else {
            Issue.record("expected a client made as the loop closed, got \(made)")
            return
        }
        let request = try await outcome(within: 60) {
            try await client.execute(HTTPRequest(try HTTPURL("http://127.0.0.1:9/x")))
        }
        guard case .failure(let error) = request, case .connect(_, .closed)? = error as? HTTPError else {
            Issue.record("expected .connect(.closed), got \(request)")
            return
        }
    }

    /// A loop nobody runs, on a thread of its own (never a blocked thread of the Tasks' pool): it closes once a post
    /// has landed on it.
    private static func loopClosingAfterFirstPost() async throws -> EventLoopHandle {
        let made = Locked<EventLoopHandle?>(nil)
        Thread.detachNewThread {
            guard let loop = try? EventLoop() else { return }
            made.withLock { $0 = loop.handle }
            while loop.handle.pendingTaskCount == 0 { usleep(1000) }
            loop.close()
        }
        while made.value == nil { try await Task.sleep(for: .milliseconds(5)) }
        return made.value!
    }

    @Test("a request that opts in gets the 404 head and page; one that does not throws the status")
    func statusThroughHandle() async throws {
        try TestEnv.require(.nginxHTTP)
        let async = try await AsyncClient()
        let url = try HTTPURL(httpBase + "/missing.csv")
        let response = try await async.handle.execute(HTTPRequest(url, acceptsAnyStatus: true))
        #expect(response.head.status == 404)
        let page = try await async.collect(response.body)
        #expect(String(decoding: page, as: UTF8.self).contains("404 Not Found"))
        do {
            _ = try await async.handle.execute(HTTPRequest(url))
            Issue.record("a 404 did not throw")
        } catch {
            guard case .status(_, 404, _, _) = error else {
                Issue.record("expected a 404 status error, got \(error)")
                return
            }
        }
        await async.handle.shutdown()
    }

    @Test("the handle made from another thread says which loop owns it")
    func handleOnLoop() async throws {
        let thread = try EventLoopThread()
        let handle = try await HTTPClientHandle(on: thread.handle)
        #expect(handle.loop === thread.handle)
        await handle.shutdown()
        thread.shutdown()
        await #expect(throws: ReactorError.self) { try await HTTPClientHandle(on: thread.handle) }
    }

    @Test("a body is single-pass: a second iterator is a precondition failure")
    func secondIterator() async throws {
        try TestEnv.require(.nginxHTTP)
        await #expect(processExitsWith: .failure) {
            // Only the second iterator may fail this process: anything else going wrong exits 0, failing the test.
            do {
                let thread = try EventLoopThread()
                let handle = try await HTTPClientHandle(on: thread.handle)
                let url = try HTTPURL("http://127.0.0.1:\(TestEnv.httpPort)/small.csv")
                let response = try await handle.execute(HTTPRequest(url))
                _ = response.body.makeAsyncIterator()
                _ = response.body.makeAsyncIterator()
                withExtendedLifetime(thread) {}
            } catch {
                print("setup failed: \(error)")
            }
            exit(0)
        }
    }
}
