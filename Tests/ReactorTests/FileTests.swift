import Foundation
import Glibc
@_spi(Internals) import Reactor
import Testing

private func scratchPath(_ name: String) -> String {
    NSTemporaryDirectory() + "w2f-file-\(UInt32.random(in: 0...UInt32.max))-\(name)"
}

@Suite("Files through the syscall layer, and their injected faults")
struct FileTests {
    @Test("append, read back, truncate: what was written is what is read")
    func roundTrip() throws {
        let path = scratchPath("log")
        defer { try? File.remove(path) }
        let file = try File(path, .append)
        try file.write("one\n")
        try file.write("two\n")
        #expect(try File.contents(of: path, limit: 100) == Array("one\ntwo\n".utf8))
        #expect(try File(path, .readWrite).read(at: 4, count: 10) == Array("two\n".utf8))
        try file.truncate()
        #expect(try File.contents(of: path, limit: 100).isEmpty)
    }

    @Test("a full device fails the write with ENOSPC, naming the call and the path")
    func fullDevice() throws {
        let file = try File("/dev/full", .append)
        #expect(throws: FileError.self) { try file.write("x") }
        do {
            try file.write("x")
        } catch {
            #expect(error.errno == ENOSPC && error.path == "/dev/full" && error.call == "write")
            #expect(error.reason.contains("ENOSPC"))
        }
    }

    @Test("a path under a file is ENOTDIR at open, whoever runs the test (root too)")
    func notADirectory() {
        do {
            _ = try File("/dev/null/x/lock", .readWrite)
            Issue.record("open under /dev/null succeeded")
        } catch {
            #expect(error.errno == ENOTDIR && error.call == "open" && error.path == "/dev/null/x/lock")
        }
    }

    @Test("an injected fault fails the next calls on its path only, as many times as asked, then no more")
    func injected() throws {
        let path = scratchPath("faulty")
        let other = scratchPath("healthy")
        defer {
            FileFaults.clear(path: path)
            try? File.remove(path)
            try? File.remove(other)
        }
        let file = try File(path, .append)
        let bystander = try File(other, .append)
        FileFaults.failNext(.write, path: path, errno: EIO, count: 2)
        var failures: [Int32] = []
        for _ in 0..<3 {
            do { try file.write("a") } catch { failures.append(error.errno) }
            try bystander.write("b")
        }
        #expect(failures == [EIO, EIO])
        #expect(try File.contents(of: path, limit: 10) == Array("a".utf8))
        #expect(try File.contents(of: other, limit: 10) == Array("bbb".utf8))

        FileFaults.failNext(.open, path: path, errno: EACCES)
        #expect(throws: FileError.self) { _ = try File(path, .read) }
        _ = try File(path, .read)
    }

    @Test("an exclusive lock is refused to a second open file, and freed when the first closes")
    func lock() throws {
        let path = scratchPath("lock")
        defer { try? File.remove(path) }
        let first = try File(path, .readWrite)
        #expect(try first.tryLock())
        let second = try File(path, .readWrite)
        #expect(try !second.tryLock())
        first.close()
        #expect(try second.tryLock())
    }

    @Test("a file over the limit is refused as too large")
    func tooLarge() throws {
        let path = scratchPath("big")
        defer { try? File.remove(path) }
        try File(path, .truncate).write(String(repeating: "A", count: 4000))
        #expect(throws: FileError.self) { _ = try File.contents(of: path, limit: 1000) }
        #expect(try File.contents(of: path, limit: 5000).count == 4000)
    }
}
