import Glibc

/// Keeps two runs of the same config from overlapping: an flock on a lock file named after the config's real path,
/// in the runtime directory ($XDG_RUNTIME_DIR, else /tmp). Held only while a run runs; the kernel drops it if the
/// process dies, so a crash never leaves a stale lock.
final class RunLock {
    private let fd: Int32
    let path: String

    enum Failure: Error {
        case held(path: String, holder: String)
        case failed(String)
    }

    init(config: String) throws(Failure) {
        var resolved = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let real = realpath(config, &resolved).map { String(cString: $0) } ?? config
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a: a stable short name for the path
        for byte in real.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        let directory =
            getenv("XDG_RUNTIME_DIR").map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        path = "\(directory)/web2ftp-\(String(hash, radix: 16)).lock"
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .failed("cannot open the lock file \(path): \(String(cString: strerror(errno)))") }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let holder = Self.contents(fd)
            close(fd)
            throw .held(path: path, holder: holder)
        }
        ftruncate(fd, 0)
        let note = "pid \(getpid()) config \(real)\n"
        _ = note.withCString { write(fd, $0, strlen($0)) }
    }

    deinit {
        ftruncate(fd, 0)
        close(fd)  // releases the flock
    }

    private static func contents(_ fd: Int32) -> String {
        var buffer = [UInt8](repeating: 0, count: 512)
        let count = pread(fd, &buffer, buffer.count, 0)
        guard count > 0 else { return "another process" }
        return String(decoding: buffer[..<count], as: UTF8.self).trimmingCharacters()
    }
}

extension String {
    fileprivate func trimmingCharacters() -> String {
        String(self.drop { $0 == " " || $0 == "\n" }.reversed().drop { $0 == " " || $0 == "\n" }.reversed())
    }
}
