import Glibc
@_spi(Internals) import Reactor
@_spi(Internals) import TLS

/// The state file on disk: read before a run, replaced after it (temporary file, fsync, rename), mode 0600.
@_spi(Internals) public enum SyncStateFile {
    /// How reading it went, for the log: a missing file is a first run, a corrupt one a full run — never a failure.
    enum Loaded: Equatable {
        case found(SyncState)
        case missing
        case corrupt(String)
    }

    static func load(_ path: String) -> Loaded {
        let bytes: [UInt8]
        do {
            bytes = try File.contents(of: path, limit: 64 * 1024 * 1024)
        } catch {
            if error.errno == ENOENT { return .missing }
            return .corrupt("\(error)")
        }
        guard let text = String(validating: bytes, as: UTF8.self), let state = SyncState.parse(text) else {
            return .corrupt("not a web2ftp state file")
        }
        return .found(state)
    }

    static func write(_ state: SyncState, to path: String) throws(FileError) {
        try AtomicFile.replace(path, with: state.json, permissions: 0o600, makingDirectories: true)
    }

    /// `$XDG_STATE_HOME/web2ftp/<hash>.json`, else `~/.local/state/web2ftp/<hash>.json`: one per config, named by
    /// the SHA-256 of the config's absolute path (its first 16 hex digits). nil without either variable.
    public static func defaultPath(forConfig configPath: String) -> String? {
        let base: String
        if let state = File.environment("XDG_STATE_HOME"), state.hasPrefix("/") {
            base = state
        } else if let home = File.environment("HOME"), !home.isEmpty {
            base = home + "/.local/state"
        } else {
            return nil
        }
        let absolute = File.realPath(configPath) ?? configPath
        var sha = SHA256()
        sha.update(Array(absolute.utf8))
        return base + "/web2ftp/" + String(sha.hexDigest().prefix(16)) + ".json"
    }
}
