import Foundation
@_spi(Internals) import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A web server for the resume tests, on blocking sockets and threads of its own (100 MiB go out with the kernel's
/// backpressure, not through a buffer): one request per connection, the same body at every path. The first request
/// for a path gets a 200 with a strong ETag and `Accept-Ranges: bytes`, cut after `cutAt` bytes; later ones are
/// answered as `later` says. It records each request and the body bytes it sent for it.
final class RangeServer: @unchecked Sendable {
    enum Later: Sendable {
        /// RFC 9110: a 206 from the asked offset when If-Range matches the ETag, else the whole body.
        case honoursRange
        /// The whole body (200) whatever the request says: ranges not served after all.
        case alwaysWhole
        /// A 206 for the asked range, but with another ETag (a server that changed the file under the range).
        case rangeWithOtherETag
        /// A 206 of the right ETag that stops 1 KiB short of the end (RFC 9110 lets a server send less).
        case shortRange
    }

    static let etag = "\"v1-resume\""
    let body: Data
    let port: Int
    private let cutAt: Int
    private let later: Later
    private let listener: Int32
    private let lock = NSLock()
    private var log: [(request: String, bytes: Int)] = []
    private var paths: Set<String> = []

    init(body: Data, cutAt: Int, later: Later) throws {
        self.body = body
        self.cutAt = cutAt
        self.later = later
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
                bind(fd, raw, length) == 0 && listen(fd, 16) == 0 && getsockname(fd, raw, &length) == 0
            }
        }
        guard fd >= 0, bound else {
            close(fd)
            throw TestFailure("RangeServer: bind/listen failed, errno \(errno)")
        }
        listener = fd
        port = Int(UInt16(bigEndian: address.sin_port))
        Thread.detachNewThread { [self] in acceptLoop() }
    }

    /// Each request's head and the body bytes sent for it, in order.
    var served: [(request: String, bytes: Int)] { locked { log } }

    private func locked<T>(_ body: () -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body()
    }

    func stop() { shutdown(listener, Int32(SHUT_RDWR)) }

    deinit { close(listener) }

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            guard client >= 0 else { return }
            Thread.detachNewThread { [self] in serve(client) }
        }
    }

    private func serve(_ client: Int32) {
        defer { close(client) }
        var head = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !head.ends(with: Array("\r\n\r\n".utf8)) {
            let count = read(client, &buffer, 1)
            guard count == 1 else { return }
            head.append(buffer[0])
        }
        let request = String(decoding: head, as: UTF8.self)
        let path = request.split(separator: " ").dropFirst().first.map(String.init) ?? ""
        let (number, first) = locked { () -> (Int, Bool) in
            log.append((request, 0))
            return (log.count, paths.insert(path).inserted)
        }
        let (status, fields, range) = answer(first, request)
        let headText =
            (["HTTP/1.1 \(status)", "Content-Type: text/csv", "Accept-Ranges: bytes", "Connection: close"] + fields)
            .joined(separator: "\r\n") + "\r\n\r\n"
        guard send(client, Array(headText.utf8)) else { return }
        var offset = range.lowerBound
        while offset < range.upperBound {
            let end = min(offset + (256 << 10), range.upperBound)
            let sent = body[offset..<end].withUnsafeBytes {
                Glibc.send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
            }
            guard sent > 0 else { return }
            offset += sent
            locked { log[number - 1].bytes += sent }
        }
    }

    /// The status line, the header fields, and the part of the body to send.
    private func answer(_ first: Bool, _ request: String) -> (String, [String], Range<Int>) {
        let whole = ("200 OK", ["ETag: \(Self.etag)", "Content-Length: \(body.count)"], 0..<body.count)
        if first { return (whole.0, whole.1, 0..<cutAt) }
        guard let from = Self.field("Range", in: request).flatMap(Self.rangeStart), from < body.count else {
            return whole
        }
        let partial = (
            "206 Partial Content",
            ["Content-Range: bytes \(from)-\(body.count - 1)/\(body.count)", "Content-Length: \(body.count - from)"],
            from..<body.count
        )
        switch later {
        case .alwaysWhole:
            return whole
        case .rangeWithOtherETag:
            return (partial.0, ["ETag: \"v2-changed\""] + partial.1, partial.2)
        case .shortRange:
            let end = body.count - 1024
            return (
                partial.0,
                [
                    "ETag: \(Self.etag)", "Content-Range: bytes \(from)-\(end - 1)/\(body.count)",
                    "Content-Length: \(end - from)",
                ], from..<end
            )
        case .honoursRange:
            guard Self.field("If-Range", in: request) == Self.etag else { return whole }
            return (partial.0, ["ETag: \(Self.etag)"] + partial.1, partial.2)
        }
    }

    static func field(_ name: String, in request: String) -> String? {
        for line in request.split(separator: "\r\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == name.lowercased() {
                return parts[1].trimmingCharacters(in: .whitespaces)
            }
        }
        return nil
    }

    static func rangeStart(_ value: String) -> Int? {
        guard value.hasPrefix("bytes="), value.hasSuffix("-") else { return nil }
        return Int(value.dropFirst(6).dropLast())
    }

    private func send(_ client: Int32, _ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { Glibc.send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) == $0.count }
    }
}

extension Array where Element: Equatable {
    fileprivate func ends(with suffix: [Element]) -> Bool {
        count >= suffix.count && Array(self[(count - suffix.count)...]) == suffix
    }
}

/// Issue #18 part 3, end to end: a body cut at 60 % is resumed on both sides (Range + If-Range, REST + STOR), and
/// each way a resume can be refused restarts from zero within the attempt; the published file is always whole.
@Suite("resume: an interrupted transfer goes on where it stopped, against vsftpd and proftpd", .serialized)
struct ResumeEndToEndTests {
    /// Random bytes (a file of zeros would hide an offset off by a checkpoint), written where sha256sum can read them.
    static func body(mebibytes: Int, in scenario: Scenario) throws -> (Data, String) {
        let path = scenario.directory + "/source.bin"
        let file = try #require(FileHandle(forReadingAtPath: "/dev/urandom"))
        let data = file.readData(ofLength: mebibytes << 20)
        try data.write(to: URL(fileURLWithPath: path))
        return (data, try sha256sum(path))
    }

    static func sha256sum(_ path: String) throws -> String { try PublishedDigestTests.sha256sum(path) }

    /// The integer after `key=` on the first line containing `marker`.
    static func integer(_ key: String, on marker: String, in log: String) -> Int? {
        guard let line = log.split(separator: "\n").first(where: { $0.contains(marker) }),
            let range = line.range(of: " \(key)=")
        else { return nil }
        return Int(line[range.upperBound...].prefix { $0.isNumber })
    }

    static func text(_ key: String, on marker: String, in log: String) -> String? {
        guard let line = log.split(separator: "\n").first(where: { $0.contains(marker) }),
            let range = line.range(of: " \(key)=")
        else { return nil }
        return String(line[range.upperBound...].prefix { $0 != " " })
    }

    /// Runs one source from `server` into the scenario's target, then checks what every variant must: exit 0, the
    /// published file the source's bytes with its SHA-256 in the log, nothing else left in the target directory.
    static func run(
        _ server: RangeServer, _ scenario: Scenario, environment: [String: String], sha: String
    ) throws -> String {
        try scenario.writeConfig(
            """
            {"big": {"URL": "http://127.0.0.1:\(server.port)/big.csv", "RETRIES": 2}}
            """)
        let run = try scenario.run("sequential", environment: environment)
        let log = scenario.log
        #expect(run.status == 0, "\(run.error)\n\(log)")
        #expect(try sha256sum(scenario.target + "/big.csv") == sha, "the published file is the source")
        #expect(text("sha256", on: "[big] published ", in: log) == sha, "\(log)")
        #expect(scenario.files == ["big.csv"], "no temporary file left: \(scenario.files)")
        return log
    }

    @Test(
        "cut at 60 %: the retry asks for the rest from a checkpoint (Range + If-Range) and appends it (REST + STOR) to vsftpd over FTPS; at most the last 40 % + 8 MiB go again"
    )
    func resumed() throws {
        try TestEnv.require(.vsftpd)
        let scenario = try Scenario("resume")
        let (body, sha) = try Self.body(mebibytes: 100, in: scenario)
        let server = try RangeServer(body: body, cutAt: body.count * 6 / 10, later: .honoursRange)
        defer { server.stop() }
        let log = try Self.run(server, scenario, environment: scenario.environment, sha: sha)
        let served = server.served
        #expect(served.count == 2, "\(served.map(\.request))")
        let limit = body.count * 4 / 10 + (8 << 20)
        let resumeFrom = try #require(Self.integer("resume_from", on: "[big] retry ", in: log), "\(log)")
        let resumed = try #require(Self.integer("resumed_bytes", on: "[big] published ", in: log), "\(log)")
        #expect(resumeFrom > 0 && resumeFrom % (8 << 20) == 0 && resumed <= resumeFrom, "\(log)")
        // Downloaded again: what the server sent for the second request; uploaded again: everything after the
        // offset the upload resumed at.
        let second = try #require(served.last)
        #expect(RangeServer.field("Range", in: second.request) == "bytes=\(resumed)-", "\(second.request)")
        #expect(RangeServer.field("If-Range", in: second.request) == RangeServer.etag)
        #expect(RangeServer.field("Accept-Encoding", in: second.request) == "identity")
        #expect(second.bytes == body.count - resumed && second.bytes <= limit, "re-downloaded \(second.bytes)")
        #expect(body.count - resumed <= limit, "re-uploaded \(body.count - resumed)")
        #expect(Self.integer("bytes", on: "[big] published ", in: log) == body.count)
        print(
            "RESUME | cut at \(body.count * 6 / 10) of \(body.count) | resume_from=\(resumeFrom) resumed_bytes=\(resumed)"
                + " | re-downloaded \(second.bytes) | re-uploaded \(body.count - resumed) | limit \(limit) |")
    }

    @Test(
        "proftpd refuses the resumed STOR (550 without AllowOverwrite, 451 without AllowStoreRestart): the same attempt restarts from zero, on a session with tickets for both data connections"
    )
    func restRefused() throws {
        let proftpd = FTPServerUnderTest.all.first { $0.name == "proftpd" }!
        let (scenario, environment) = try proftpd.scenario("resume-refused")
        let (body, sha) = try Self.body(mebibytes: 40, in: scenario)
        let server = try RangeServer(body: body, cutAt: body.count * 6 / 10, later: .honoursRange)
        defer { server.stop() }
        let log = try Self.run(server, scenario, environment: environment, sha: sha)
        #expect(log.contains("[big] retry ") && log.contains(" resume_from="), "\(log)")
        #expect(log.contains("[big] resume detail=") && log.contains("from zero"), "\(log)")
        #expect(!log.contains("resumed_bytes="), "published from zero: \(log)")
        #expect(log.contains("[big] attempt 2/3") && !log.contains("attempt 3/3"), "within the second attempt")
        // The cut body, the range the refused STOR did not take, then the whole body.
        #expect(server.served.count == 3 && server.served.last?.bytes == body.count, "\(server.served.map(\.bytes))")
    }

    @Test(
        "the ranged request answered with the whole body (200), a 206 of another ETag, or a 206 that stops short: from zero, same attempt",
        arguments: [RangeServer.Later.alwaysWhole, .rangeWithOtherETag, .shortRange])
    func rangeRefused(later: RangeServer.Later) throws {
        try TestEnv.require(.vsftpd)
        let scenario = try Scenario("resume-200")
        let (body, sha) = try Self.body(mebibytes: 40, in: scenario)
        let server = try RangeServer(body: body, cutAt: body.count * 6 / 10, later: later)
        defer { server.stop() }
        let log = try Self.run(server, scenario, environment: scenario.environment, sha: sha)
        #expect(log.contains("[big] resume detail=") && log.contains("from zero"), "\(log)")
        #expect(!log.contains("resumed_bytes="), "\(log)")
        #expect(!log.contains("attempt 3/3"), "within the second attempt: \(log)")
        let requests = later == .alwaysWhole ? 2 : 3
        #expect(server.served.count == requests && server.served.last?.bytes == body.count)
    }

    @Test(
        "a kept temporary file goes with the run's clean-up when no retry comes (RETRIES 0), and when the resumed attempt fails for good (MAX_BYTES counts the bytes before the range too)"
    )
    func keptFileCleanedUp() throws {
        try TestEnv.require(.vsftpd)
        let scenario = try Scenario("resume-cleanup")
        let (body, _) = try Self.body(mebibytes: 40, in: scenario)
        let server = try RangeServer(body: body, cutAt: body.count * 6 / 10, later: .honoursRange)
        defer { server.stop() }
        try scenario.writeConfig(
            """
            {"last": {"URL": "http://127.0.0.1:\(server.port)/last.csv", "RETRIES": 0},
             "capped": {"URL": "http://127.0.0.1:\(server.port)/capped.csv", "RETRIES": 2, "MAX_BYTES": \(32 << 20)}}
            """)
        let run = try scenario.run("sequential")
        let log = scenario.log
        #expect(run.status == 1, "\(log)")
        #expect(log.contains("[last] failed class=transient attempts=1"), "\(log)")
        #expect(log.contains("[capped] retry ") && log.contains(" resume_from="), "\(log)")
        #expect(log.contains("[capped] failed class=permanent attempts=2") && log.contains("MAX_BYTES"), "\(log)")
        #expect(log.contains("cleanup temporary_files_deleted=1 checked=1"), "\(log)")
        #expect(scenario.files.isEmpty, "nothing published, no temporary file left: \(scenario.files)")
    }
}
