import Glibc
@_spi(Internals) import Reactor
@_spi(Internals) import WebToFTP

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

    /// The shard's own lock, held exclusive, when this run is one shard (`--shard`).
    private let shardFile: File?

    /// An unsharded run takes the config's lock exclusive; a shard takes it shared (so shards run side by side, and
    /// none overlaps a whole-config run) and its own `web2ftp-<hash>.<K>-of-<N>.lock` exclusive (so the same shard
    /// never runs twice).
    /// `directory` replaces the runtime directory (tests).
    init(config: String, shard: Shard? = nil, directory given: String? = nil) throws(Failure) {
        let real = File.realPath(config) ?? config
        let name = "web2ftp-" + String(Shard.hash(real), radix: 16)  // FNV-1a: a stable short name for the path
        let directory = given ?? File.environment("XDG_RUNTIME_DIR").flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        let path = "\(directory)/\(name).lock"
        let note = "pid \(getpid()) config \(real)" + (shard.map { " shard \($0.label)" } ?? "") + "\n"
        // `file` is set only once the lock is ours: an init that throws after setting every stored property runs
        // `deinit`, which would clear the holder's note.
        let opened = try Self.lock(path, shared: shard != nil)
        var shardOpened: File?
        if let shard {
            let shardPath = "\(directory)/\(name).\(shard.fileTag).lock"
            shardOpened = try Self.lock(shardPath, shared: false)
            try? shardOpened?.truncate()
            try? shardOpened?.write(note)
        } else {
            // Who holds it, for the message a second run prints; the lock works whether or not this note is written.
            // Shards hold it shared and leave it alone: each would overwrite, and clear, the others' note.
            try? opened.truncate()
            try? opened.write(note)
        }
        self.path = shardOpened?.path ?? path
        file = opened
        shardFile = shardOpened
    }

    /// The lock taken, or why not: a failed exclusive lock that a shared one would have got is held by shards.
    private static func lock(_ path: String, shared: Bool) throws(Failure) -> File {
        let opened: File
        let locked: Bool
        do throws(FileError) {
            opened = try File(path, .readWrite)
            locked = try opened.tryLock(shared: shared)
        } catch {
            throw .failed(path: path, error)
        }
        guard locked else {
            if !shared, (try? opened.tryLock(shared: true)) == true {
                throw .held(path: path, holder: "one or more shard runs (--shard)")
            }
            throw .held(path: path, holder: Self.holder(of: opened))
        }
        return opened
    }

    /// The files close right after, which releases the flocks.
    deinit {
        if let shardFile { try? shardFile.truncate() } else { try? file.truncate() }
    }

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
