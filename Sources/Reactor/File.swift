import Glibc

/// A file the tool reads or writes — the log, the run lock, `get`'s output, the config — through the same syscall
/// layer as sockets (EINTR retried there, errors naming the call), so that tests can make its calls fail
/// (`FileFaults`). Blocking and small; `get`'s output is the one on a hot path, where a write costs one uncontended
/// lock for the fault check besides the syscall. It owns its descriptor unless it borrows
/// one (standard output); `close()` or deinit closes it.
@_spi(Internals) public final class File {
    public enum Mode: Sendable {
        case read
        /// Created if missing, every write at the end (the log).
        case append
        /// Created if missing, emptied (an output file).
        case truncate
        /// Created if missing, kept as it is (the lock file).
        case readWrite

        var flags: Int32 {
            switch self {
            case .read: return O_RDONLY
            case .append: return O_WRONLY | O_CREAT | O_APPEND
            case .truncate: return O_WRONLY | O_CREAT | O_TRUNC
            case .readWrite: return O_RDWR | O_CREAT
            }
        }
    }

    public let path: String
    private var fd: Int32
    private let owned: Bool

    public init(_ path: String, _ mode: Mode, permissions: mode_t = 0o644) throws(FileError) {
        self.path = path
        owned = true
        do {
            fd = try Sys.open(path, flags: mode.flags, permissions: permissions)
        } catch {
            throw FileError(error, path: path)
        }
    }

    private init(borrowing fd: Int32, name: String) {
        self.fd = fd
        path = name
        owned = false
    }

    /// Standard output, borrowed: closing it does nothing.
    public static func standardOutput() -> File { File(borrowing: 1, name: "standard output") }
    public static func standardError() -> File { File(borrowing: 2, name: "standard error") }

    deinit { if owned && fd >= 0 { Sys.close(fd) } }

    public var isOpen: Bool { fd >= 0 }

    /// Sets the mode exactly (`fchmod`): the mode given to `init` is filtered by the umask, which must not make a
    /// file meant for another user's reader (a metrics collector) unreadable to it.
    public func setPermissions(_ permissions: mode_t) throws(FileError) {
        precondition(fd >= 0, "fchmod of closed file \(path)")
        do throws(ReactorError) {
            _ = try Sys.call("fchmod") { fchmod(fd, permissions) }
        } catch {
            throw FileError(error, path: path)
        }
    }

    /// Writes all of `bytes` (a short write is continued) or throws why not.
    public func write(_ bytes: UnsafeRawBufferPointer) throws(FileError) {
        precondition(fd >= 0, "write to closed file \(path)")
        var rest = bytes
        do throws(ReactorError) {
            while !rest.isEmpty {
                let written = try Sys.write(fd, path: path, rest)
                // A regular file or device that takes nothing and says no error: treat as full rather than spin.
                if written == 0 { throw ReactorError.syscall("write", errno: ENOSPC) }
                rest = UnsafeRawBufferPointer(rebasing: rest[written...])
            }
        } catch {
            throw FileError(error, path: path)
        }
    }

    public func write(_ text: String) throws(FileError) {
        var text = text
        // withUTF8 rethrows untyped errors, so the typed error travels out as a value.
        let outcome: Result<Void, FileError> = text.withUTF8 { bytes in
            do throws(FileError) {
                return .success(try write(UnsafeRawBufferPointer(bytes)))
            } catch {
                return .failure(error)
            }
        }
        try outcome.get()
    }

    /// The rest of the file, up to `limit + 1` bytes (a caller that gets more than `limit` knows it is too large).
    public func readAll(limit: Int) throws(FileError) -> [UInt8] {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while bytes.count <= limit {
            let fd = fd
            let path = path
            let outcome: Result<Int, ReactorError> = buffer.withUnsafeMutableBytes { raw in
                do throws(ReactorError) {
                    return .success(try Sys.read(fd, path: path, raw))
                } catch {
                    return .failure(error)
                }
            }
            let count: Int
            switch outcome {
            case .success(let got): count = got
            case .failure(let error): throw FileError(error, path: path)
            }
            if count == 0 { break }
            bytes += buffer[..<count]
        }
        return bytes
    }

    /// Up to `count` bytes from `offset`, without moving the file position.
    public func read(at offset: Int, count: Int) throws(FileError) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: count)
        let fd = fd
        let outcome: Result<Int, ReactorError> = buffer.withUnsafeMutableBytes { raw in
            do throws(ReactorError) {
                return .success(try Sys.pread(fd, raw, at: offset))
            } catch {
                return .failure(error)
            }
        }
        switch outcome {
        case .success(let got): return Array(buffer[..<got])
        case .failure(let error): throw FileError(error, path: path)
        }
    }

    public func truncate() throws(FileError) {
        do { try Sys.truncate(fd) } catch { throw FileError(error, path: path) }
    }

    /// Takes an exclusive flock (a shared one when `shared`) without waiting: false when another process (or open
    /// file) holds a conflicting one. The kernel drops it when the descriptor closes, so a crash leaves no stale lock.
    public func tryLock(shared: Bool = false) throws(FileError) -> Bool {
        do { return try Sys.tryLock(fd, shared: shared) } catch { throw FileError(error, path: path) }
    }

    /// Flushes the file's data to the disk (before a rename makes it the current version).
    public func sync() throws(FileError) {
        do { try Sys.fsync(fd) } catch { throw FileError(error, path: path) }
    }

    /// Closes the file, reporting what the kernel says (a written file's last chance to report a write error).
    public func closeReporting() throws(FileError) {
        guard fd >= 0 else { return }
        let closing = fd
        fd = -1
        guard owned else { return }
        do { try Sys.closeReporting(closing) } catch { throw FileError(error, path: path) }
    }

    public func close() {
        guard fd >= 0 else { return }
        if owned { Sys.close(fd) }
        fd = -1
    }

    // MARK: paths

    public static func rename(_ from: String, to: String) throws(FileError) {
        do { try Sys.rename(from, to: to) } catch { throw FileError(error, path: from) }
    }

    /// Creates `path` and the directories above it that are missing (`mkdir -p`).
    public static func makeDirectories(_ path: String, permissions: mode_t = 0o700) throws(FileError) {
        var current = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/") {
            current += "/" + part
            do { try Sys.makeDirectory(current, permissions: permissions) } catch {
                throw FileError(error, path: current)
            }
        }
    }

    /// Removes `path`; a file already gone is not an error.
    public static func remove(_ path: String) throws(FileError) {
        do {
            try Sys.unlink(path)
        } catch {
            if case .syscall(_, ENOENT) = error { return }
            throw FileError(error, path: path)
        }
    }

    /// The canonical absolute path (symbolic links resolved), or nil when it does not exist.
    public static func realPath(_ path: String) -> String? { Sys.realPath(path) }

    /// The permission bits of `path` (symbolic links followed), or nil when it cannot be looked at.
    public static func permissions(of path: String) -> UInt32? { Sys.permissions(path) }

    /// Reads a whole small file (the config, .netrc): up to `limit` bytes, else an error saying it is too large.
    public static func contents(of path: String, limit: Int) throws(FileError) -> [UInt8] {
        let file = try File(path, .read)
        let bytes = try file.readAll(limit: limit)
        guard bytes.count <= limit else { throw FileError(call: "read", path: path, tooLarge: limit) }
        return bytes
    }

    /// An environment variable, through the same layer (the lock's runtime directory).
    public static func environment(_ name: String) -> String? { Sys.environment(name) }

    /// What tells one version of a file from another (device, inode, size, modification time), nil when it cannot
    /// be had: a cache keyed by path notices a file replaced or rewritten since (a renewed CA file).
    public static func identity(of path: String) -> FileIdentity? {
        guard let status = Sys.status(path) else { return nil }
        return FileIdentity(
            device: UInt64(status.st_dev), inode: UInt64(status.st_ino), size: Int64(status.st_size),
            modified: Int64(status.st_mtim.tv_sec) * 1_000_000_000 + Int64(status.st_mtim.tv_nsec))
    }

    /// Whether any entry's name in `directory` passes `test` (stopping at the first); nil when the directory cannot
    /// be read.
    public static func directoryContains(_ directory: String, where test: (UnsafePointer<CChar>) -> Bool) -> Bool? {
        Sys.directoryContains(directory, where: test)
    }
}

/// See `File.identity(of:)`.
@_spi(Internals) public struct FileIdentity: Hashable, Sendable {
    public var device: UInt64
    public var inode: UInt64
    public var size: Int64
    public var modified: Int64
}

/// A file call that failed: which call, on which path, with which errno.
@_spi(Internals) public struct FileError: Error, Equatable, Sendable, CustomStringConvertible {
    public let call: String
    public let path: String
    public let errno: Int32
    private let limit: Int?

    init(_ error: ReactorError, path: String) {
        self.path = path
        limit = nil
        switch error {
        case .syscall(let call, let code): (self.call, errno) = (call, code)
        default: (call, errno) = ("\(error)", 0)
        }
    }

    init(call: String, path: String, tooLarge limit: Int) {
        self.call = call
        self.path = path
        errno = EFBIG
        self.limit = limit
    }

    /// The reason alone, for messages that name the path themselves: "No space left on device (ENOSPC)".
    public var reason: String {
        if let limit { return "larger than \(limit >> 20) MiB: is this the right file?" }
        return errno == 0 ? call : Errno.describe(errno)
    }

    public var description: String { "\(call) \(path): \(reason)" }
}

/// Test hook: makes the next file calls on a path fail with a chosen errno, so that tests reach the error paths a
/// full disk or a dying device would (the log on ENOSPC, an output file on EIO). Process-wide; tests that arm it
/// use paths of their own.
@_spi(Internals) public enum FileFaults {
    public enum Call: Sendable {
        case open
        case read
        case write
    }

    private struct Fault: Sendable {
        let call: Call
        let path: String
        let errno: Int32
        var remaining: Int
    }

    private static let armed = LockedValue<[Fault]>([])

    /// The next `count` calls of `call` on `path` fail with `errno`.
    public static func failNext(_ call: Call, path: String, errno: Int32, count: Int = 1) {
        armed.withLock { $0.append(Fault(call: call, path: path, errno: errno, remaining: count)) }
    }

    /// Drops every armed fault on `path`.
    public static func clear(path: String) {
        armed.withLock { $0.removeAll { $0.path == path } }
    }

    static func check(_ call: Call, path: String) throws(ReactorError) {
        let code: Int32? = armed.withLock { faults in
            guard let index = faults.firstIndex(where: { $0.call == call && $0.path == path }) else { return nil }
            faults[index].remaining -= 1
            let code = faults[index].errno
            if faults[index].remaining <= 0 { faults.remove(at: index) }
            return code
        }
        if let code {
            let name: String
            switch call {
            case .open: name = "open"
            case .read: name = "read"
            case .write: name = "write"
            }
            throw .syscall(name, errno: code)
        }
    }
}
