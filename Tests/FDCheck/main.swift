@_spi(Internals) import FTP
// Runs the engine's scenarios in a process of its own and compares its open file descriptors before and after, so
// that a leak shows without the noise of other tests running in parallel. Prints one line per scenario and a last
// line `fds before=N after=M`; exits 0 when every scenario passed and nothing leaked. `--leak` leaks one descriptor
// on purpose (the test of the test).
import Glibc
@_spi(Internals) import HTTP1
@_spi(Internals) import Reactor
@_spi(Internals) import TLS
@_spi(Internals) import TestSupport

func openDescriptors() -> [String] {
    guard let directory = opendir("/proc/self/fd") else { return [] }
    defer { closedir(directory) }
    // The listing's own descriptor is left out: its number depends on which are free, not on what leaked.
    let own = String(dirfd(directory))
    var names: [String] = []
    while let entry = readdir(directory) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        if name != "." && name != ".." && name != own { names.append(name) }
    }
    return names.sorted()
}

/// What a descriptor is (`socket:[…]`, a path, `anon_inode:[…]`), for the report.
func describe(_ fd: String) -> String {
    var target = [UInt8](repeating: 0, count: 256)
    let count = target.withUnsafeMutableBufferPointer { buffer in
        buffer.withMemoryRebound(to: CChar.self) { readlink("/proc/self/fd/" + fd, $0.baseAddress!, 255) }
    }
    return count > 0 ? fd + "=" + String(decoding: target[..<count], as: UTF8.self) : fd
}

/// A CLOCK_BOOTTIME timerfd: the concurrency runtime's (libdispatch times `Task.sleep` on it, and may open another
/// lazily on a loaded machine); the engine's loops use CLOCK_MONOTONIC and CLOCK_REALTIME only.
func isRuntimeTimer(_ fd: String) -> Bool {
    let info = open("/proc/self/fdinfo/" + fd, O_RDONLY)
    guard info >= 0 else { return false }
    defer { close(info) }
    var bytes = [UInt8](repeating: 0, count: 512)
    let count = read(info, &bytes, bytes.count)
    return count > 0 && String(decoding: bytes[..<count], as: UTF8.self).contains("clockid: 7\n")
}

func env(_ name: String, _ fallback: String) -> String {
    guard let value = getenv(name) else { return fallback }
    return String(cString: value)
}

let testDirectory = env("W2F_TEST_DIR", "/tmp/web2ftp-test-servers")
let httpsPort = Int(env("W2F_HTTPS_PORT", "18443"))!
let httpPort = Int(env("W2F_HTTP_PORT", "18080"))!
let ftpsPort = Int(env("W2F_FTPS_PORT", "18021"))!
var failures = 0

@MainActor func report(_ name: String, _ outcome: String?) {
    if let outcome {
        failures += 1
        print("scenario \(name) FAILED: \(outcome)")
    } else {
        print("scenario \(name) ok")
    }
}

/// Runs `body` on a fresh loop on this thread until it calls `finish` (nil = passed, else what went wrong).
@MainActor func scenario(
    _ name: String, timeoutMS: Int = 10_000, _ body: (EventLoop, @escaping (String?) -> Void) -> Void
) {
    do {
        let loop = try EventLoop()
        var outcome: String??
        let watchdog = loop.scheduleTimer(afterMilliseconds: timeoutMS) { outcome = .some("timed out") }
        body(loop) { result in if outcome == nil { outcome = .some(result) } }
        while outcome == nil { try loop.runOnce(maxWaitMS: 100) }
        loop.cancelTimer(watchdog)
        // Let closes still under way (graceful closes waiting for the peer, failure reports on timers) finish: on a
        // loaded machine they may take a moment. Anything still registered after that is a leak.
        let deadline = MonotonicClock.monotonicNanoseconds() + 3_000_000_000
        repeat {
            try loop.runOnce(maxWaitMS: 10)
        } while loop.registeredCount != 0 && MonotonicClock.monotonicNanoseconds() < deadline
        if loop.registeredCount != 0 {
            report(name, (outcome!.map { "\($0); " } ?? "") + "still registered: \(loop.registeredDescription)")
        } else {
            report(name, outcome!)
        }
        loop.close()
    } catch {
        report(name, "\(error)")
    }
}

let before = openDescriptors()
let loopback = SocketAddress(numericHost: "127.0.0.1", port: 0)!

scenario("timers") { loop, finish in
    var fired = 0
    let repeating = loop.scheduleTimer(afterMilliseconds: 1, repeating: 1) { fired += 1 }
    loop.scheduleTimer(afterMilliseconds: 30) {
        loop.cancelTimer(repeating)
        finish(fired > 3 ? nil : "repeating timer fired \(fired) times")
    }
}

scenario("tcp echo and graceful close") { loop, finish in
    do {
        final class Echo: ByteStreamDelegate {
            func stream(_ stream: any ByteStream, didRead bytes: UnsafeRawBufferPointer) { stream.write(bytes) }
            func streamDidBecomeWritable(_ stream: any ByteStream) {}
            func stream(_ stream: any ByteStream, didEnd end: StreamEnd) { stream.close() }
        }
        let echo = Echo()
        let listener = try TCPListener(loop: loop, address: loopback)
        try listener.startAccepting { $0.delegate = echo }
        TCPConnector(loop: loop).connect(host: "127.0.0.1", port: listener.localAddress.port) { result in
            guard case .success(let connection) = result else { return finish("connect: \(result)") }
            connection.write("ping")
            connection.closeGracefully(timeoutMS: 2000) { end in
                listener.close()
                _ = echo
                finish(end == nil ? "graceful close timed out" : nil)
            }
        }
    } catch {
        finish("\(error)")
    }
}

scenario("connect refused") { loop, finish in
    do {
        let probe = try TCPListener(loop: loop, address: loopback)
        let port = probe.localAddress.port
        probe.close()
        TCPConnector(loop: loop).connect(host: "127.0.0.1", port: port) { result in
            guard case .failure(.connectionRefused) = result else { return finish("expected refused: \(result)") }
            finish(nil)
        }
    } catch {
        finish("\(error)")
    }
}

scenario("connect timeout") { loop, finish in
    do {
        let listener = try TCPListener(loop: loop, address: loopback, backlog: 0)
        var held: [TCPConnection] = []
        func attempt(_ remaining: Int) {
            TCPConnector(loop: loop, options: .init(connectTimeoutMS: 300)).connect(
                to: [listener.localAddress], host: "127.0.0.1"
            ) { result in
                switch result {
                case .success(let connection):
                    held.append(connection)
                    remaining > 0 ? attempt(remaining - 1) : finish("the accept queue never filled")
                case .failure(.connectTimeout):
                    for connection in held { connection.close() }
                    listener.close()
                    finish(nil)
                case .failure(let error):
                    finish("\(error)")
                }
            }
        }
        attempt(16)
    } catch {
        finish("\(error)")
    }
}

scenario("resolve localhost") { loop, finish in
    Resolver(loop: loop).resolve(host: "localhost", port: 80, timeoutMS: 5000) { result in
        guard case .success(let addresses) = result, !addresses.isEmpty else { return finish("\(result)") }
        finish(nil)
    }
}

let context = try! TLSContext(.client(additionalCAFile: testDirectory + "/ca.pem"))

scenario("tls request to nginx, resumed, closed with close_notify") { loop, finish in
    func get(session: TLSSession?, then: @escaping (TLSSession?, Bool) -> Void) {
        TLSStream.connect(loop: loop, host: "127.0.0.1", port: httpsPort, context: context, session: session) {
            result in
            guard case .success(let stream) = result else { return finish("\(result)") }
            final class Reader: ByteStreamDelegate {
                var onEnd: () -> Void = {}
                func stream(_ stream: any ByteStream, didRead bytes: UnsafeRawBufferPointer) {}
                func streamDidBecomeWritable(_ stream: any ByteStream) {}
                func stream(_ stream: any ByteStream, didEnd end: StreamEnd) { onEnd() }
            }
            let reader = Reader()
            reader.onEnd = {
                _ = reader
                let next = stream.resumableSession
                let resumed = stream.tls?.sessionResumed == true
                stream.close()
                then(next, resumed)
            }
            stream.delegate = reader
            stream.write("GET /small.csv HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        }
    }
    get(session: nil) { session, _ in
        get(session: session) { _, resumed in finish(resumed ? nil : "second connection not resumed") }
    }
}

scenario("tls handshake failure closes its socket") { loop, finish in
    let untrusting = try! TLSContext(.client())
    TLSStream.connect(loop: loop, host: "127.0.0.1", port: httpsPort, context: untrusting) { result in
        guard case .failure(.verificationFailed) = result else { return finish("expected a verification failure") }
        finish(nil)
    }
}

scenario("http client: keep-alive, redirect, 404, then close") { loop, finish in
    final class Sink: HTTPResponseDelegate {
        var onDone: (Result<HTTPResponseSummary, HTTPError>) -> Void = { _ in }
        func task(_ task: HTTPTask, didReceiveHead head: HTTPResponseHead) {}
        func task(_ task: HTTPTask, didReceive bytes: UnsafeRawBufferPointer) {}
        func task(_ task: HTTPTask, didFinish result: Result<HTTPResponseSummary, HTTPError>) { onDone(result) }
    }
    var configuration = HTTPClient.Configuration()
    configuration.tls = .client(additionalCAFile: testDirectory + "/ca.pem")
    let client = HTTPClient(loop: loop, configuration: configuration)
    let urls = [
        "http://127.0.0.1:\(httpPort)/small.csv", "http://127.0.0.1:\(httpPort)/redirect/chain",
        "https://localhost:\(httpsPort)/large.csv", "https://localhost:\(httpsPort)/missing.csv",
    ]
    func next(_ index: Int) {
        guard index < urls.count else {
            client.close()
            return finish(nil)
        }
        let sink = Sink()
        sink.onDone = { result in
            _ = sink
            if index < 3, case .failure(let error) = result { return finish("\(urls[index]): \(error)") }
            next(index + 1)
        }
        client.request(try! HTTPURL(urls[index]), delegate: sink)
    }
    next(0)
}

scenario("ftp client: login, two uploads, quit") { loop, finish in
    final class Writer: FTPUploadDelegate {
        var onDone: (Result<FTPPublishResult, FTPError>) -> Void = { _ in }
        func uploadCanBegin(_ upload: FTPUpload) {
            Array("a,b\n1,2\n".utf8).withUnsafeBytes { upload.write($0) }
            upload.finishWriting()
        }
        func uploadDidBecomeWritable(_ upload: FTPUpload) {}
        func upload(_ upload: FTPUpload, didFinish result: Result<FTPPublishResult, FTPError>) { onDone(result) }
    }
    var configuration = FTPSession.Configuration(
        host: "127.0.0.1", port: ftpsPort, user: env("W2F_FTP_USER", "w2ftest"),
        password: env("W2F_FTP_PASS", "w2ftest-Secret-1"))
    configuration.tls = .client(additionalCAFile: testDirectory + "/ca.pem")
    FTPSession.connect(loop: loop, configuration: configuration) { result in
        guard case .success(let session) = result else { return finish("login: \(result)") }
        func upload(_ index: Int) {
            guard index < 2 else { return session.quit { finish(nil) } }
            let writer = Writer()
            writer.onDone = { result in
                _ = writer
                if case .failure(let error) = result {
                    session.close()
                    return finish("upload: \(error)")
                }
                upload(index + 1)
            }
            // Two of these processes may run at once (the leak test and its own test): names must not collide.
            let plan = FTPPublishPlan.make(
                directory: "fdcheck-\(getpid())", finalName: "f\(index).csv", host: "fdcheck",
                processID: Int(getpid()), unixTime: MonotonicClock.unixSeconds(), checkSize: true)
            _ = session.upload(plan: plan, delegate: writer)
        }
        upload(0)
    }
}

/// Threads of this process named `name`, from /proc/self/task/*/comm.
func threads(named name: String) -> Int {
    guard let directory = opendir("/proc/self/task") else { return -1 }
    defer { closedir(directory) }
    var count = 0
    while let entry = readdir(directory) {
        let tid = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        guard tid.first?.isNumber == true, let comm = try? File.contents(of: "/proc/self/task/\(tid)/comm", limit: 64)
        else { continue }
        if String(decoding: comm, as: UTF8.self) == name + "\n" { count += 1 }
    }
    return count
}

scenario("digest thread: one for the process, gone with its last digest") { _, finish in
    var problems: [String] = []
    let big = [UInt8](repeating: 9, count: 3 << 20)
    for round in 0..<3 {
        let first = TransferDigest(mode: .threaded)
        let second = TransferDigest(mode: .threaded)
        big.withUnsafeBytes { bytes in
            first.update(bytes)
            second.update(bytes) {}
        }
        let running = threads(named: DigestWorker.threadName)
        if running != 1 { problems.append("round \(round): \(running) digest threads while two digests run") }
        _ = first.hexDigest()
        if round < 2 { _ = second.hexDigest() }  // the last round drops one unfinished
    }
    let left = threads(named: DigestWorker.threadName)
    if left != 0 || DigestWorker.shared.isRunning { problems.append("\(left) digest threads left") }
    finish(problems.isEmpty ? nil : problems.joined(separator: "; "))
}

scenario("event loop thread") { _, finish in
    do {
        for _ in 0..<5 {
            let thread = try EventLoopThread()
            thread.shutdown()
        }
        finish(nil)
    } catch {
        finish("\(error)")
    }
}

// Signals: blocked before the watcher exists, then delivered through the signalfd.
do {
    try ProcessSignals.blockForWatching([SIGHUP, SIGUSR1])
    scenario("signals reach the loop through signalfd") { loop, finish in
        do {
            var seen: [Int32] = []
            let watcher = try SignalWatcher(loop: loop, signals: [SIGHUP, SIGUSR1]) { signal in
                seen.append(signal)
                if seen.count == 2 {
                    finish(seen.sorted() == [SIGHUP, SIGUSR1].sorted() ? nil : "saw \(seen)")
                }
            }
            loop.scheduleTimer(afterMilliseconds: 2000) { watcher.close() }
            kill(getpid(), SIGHUP)
            kill(getpid(), SIGUSR1)
            loop.scheduleTimer(afterMilliseconds: 50) { watcher.close() }
        } catch {
            finish("\(error)")
        }
    }
} catch {
    report("signals", "\(error)")
}

// The concurrency runtime's executor (libdispatch) opens its own epoll, eventfd and timerfd on first use, and keeps
// them: they are noted here, after the signal scenario (whose signals must be blocked before any thread starts), and
// left out of the count.
try? await Task.sleep(for: .milliseconds(1))
let runtimeDescriptors = Set(openDescriptors()).subtracting(before)

// The async API's early exits: bodies dropped after their first chunk and Tasks cancelled mid-body, over HTTP and
// HTTPS, then the client's shutdown and the loop thread's end. Each early exit must close its connection.
do {
    let thread = try EventLoopThread()
    var configuration = HTTPClient.Configuration()
    configuration.tls = .client(additionalCAFile: testDirectory + "/ca.pem")
    let client = try await HTTPClientHandle(on: thread.handle, configuration: configuration)
    var problems: [String] = []
    // Each early exit must give its descriptor back at once, not at the shutdown (which would close it too).
    let baseline = openDescriptors()
    func engineDescriptors() -> [String] { openDescriptors().filter { baseline.contains($0) || !isRuntimeTimer($0) } }
    func settled() async throws -> Bool {
        for _ in 0..<200 {
            if engineDescriptors() == baseline { return true }
            try await Task.sleep(for: .milliseconds(10))
        }
        return false
    }
    let urls = [
        "http://127.0.0.1:\(httpPort)/large.csv", "https://localhost:\(httpsPort)/large.csv",
        "https://localhost:\(httpsPort)/chunked/large.csv", "http://127.0.0.1:\(httpPort)/chunked/large.csv",
        "https://localhost:\(httpsPort)/large.csv",
    ]
    /// One request left early: the body dropped after its first chunk, or its reading Task cancelled. Returns what
    /// went wrong; the response is gone once it returns.
    func leaveEarly(_ url: String, byCancel: Bool) async throws -> String? {
        let response = try await client.execute(HTTPRequest(try HTTPURL(url)))
        guard byCancel else {
            var iterator = response.body.makeAsyncIterator()
            return try await iterator.next()?.isEmpty != false ? "\(url): no first chunk" : nil
        }
        let firstChunk = LockedValue(false)
        let reader = Task {
            for try await _ in response.body {
                firstChunk.withLock { $0 = true }
                try? await Task.sleep(for: .milliseconds(5))
            }
        }
        while !firstChunk.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(1)) }
        reader.cancel()
        if case .success = await reader.result { return "\(url): the body ended before the cancel" }
        return nil
    }
    for (index, url) in urls.enumerated() {
        if let problem = try await leaveEarly(url, byCancel: index % 2 == 1) { problems.append(problem) }
        if try await !settled() {
            let extra = Set(engineDescriptors()).subtracting(baseline).sorted().map(describe)
            problems.append("\(url): descriptors \(extra) still open after the early exit")
        }
    }
    await client.shutdown()
    thread.shutdown()
    report("async http: 5 early exits, then shutdown", problems.isEmpty ? nil : problems.joined(separator: "; "))
} catch {
    report("async http: 5 early exits, then shutdown", "\(error)")
}

if CommandLine.arguments.contains("--leak") {
    _ = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
}

// Resolver threads are detached and may still be closing getaddrinfo's files: give them a moment (up to 3 s on a
// loaded machine).
func remaining() -> [String] {
    openDescriptors().filter { !runtimeDescriptors.contains($0) && (before.contains($0) || !isRuntimeTimer($0)) }
}
let settleDeadline = MonotonicClock.monotonicNanoseconds() + 3_000_000_000
usleep(200_000)
while remaining() != before && MonotonicClock.monotonicNanoseconds() < settleDeadline { usleep(20_000) }
let after = remaining()
print("fds before=\(before.count) after=\(after.count)")
if after != before {
    print("leaked: \(Set(after).subtracting(before).sorted().map(describe))")
}
exit(failures == 0 && after == before ? 0 : 1)
