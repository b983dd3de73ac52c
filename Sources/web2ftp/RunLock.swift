import Glibc
@_spi(Internals) import Reactor

/// Keeps two runs of the same config from overlapping: an flock on a lock file named after the config's real path,
/// in the runtime directory ($XDG_RUNTIME_DIR; /tmp only when it is unset or empty — a runtime directory that is set
/// but unusable is an error, not a reason to lock somewhere another session would not look). Held only while a run
/// runs; the kernel drops it if the process dies, so a crash never leaves a stale lock.
final class RunLock {
    private let file: File
    let path: String

    enum Failure: Error {
        /// Another run of this config holds the lock (exit 3).
        case held(path: String, holder: String)
        /// The lock file cannot be created or locked (exit 2: nothing ran, and a retry will not help).
        case failed(path: String, FileError)

        var exitCode: Int32 {
            switch self {
            case .held: return 3
            case .failed: return 2
            }
        }

        var message: String {
            switch self {
            case .held(let path, let holder): return "the lock \(path) is held by \(holder)"
            case .failed(let path, let error):
                let what = error.call == "flock" ? "lock" : "create"
                return "cannot \(what) the lock file \(path): \(error.reason)"
            }
        }
    }

    init(config: String) throws(Failure) {
        let real = File.realPath(config) ?? config
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a: a stable short name for the path
        for byte in real.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        let directory = File.environment("XDG_RUNTIME_DIR").flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        let path = "\(directory)/web2ftp-\(String(hash, radix: 16)).lock"
        self.path = path
        // `file` is set only once the lock is ours: an init that throws after setting every stored property runs
        // `deinit`, which would clear the holder's note.
        let opened: File
        let locked: Bool
        do throws(FileError) {
            opened = try File(path, .readWrite)
            locked = try opened.tryLock()
        } catch {
            throw .failed(path: path, error)
        }
        guard locked else { throw .held(path: path, holder: Self.holder(of: opened)) }
        file = opened
        // Who holds it, for the message a second run prints; the lock works whether or not this note is written.
        try? file.truncate()
        try? file.write("pid \(getpid()) config \(real)\n")
    }

    /// The file closes right after, which releases the flock.
    deinit { try? file.truncate() }

    private static func holder(of file: File) -> String {
        let text = String(decoding: (try? file.read(at: 0, count: 512)) ?? [], as: UTF8.self).trimmingCharacters()
        return text.isEmpty ? "another process" : text
    }
}

extension String {
    fileprivate func trimmingCharacters() -> String {
        String(self.drop { $0 == " " || $0 == "\n" }.reversed().drop { $0 == " " || $0 == "\n" }.reversed())
    }
}
