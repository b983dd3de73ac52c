import Glibc
@_spi(Internals) import Reactor

/// A file replaced whole or not at all: written to a temporary name in the same directory, fsynced, then renamed
/// over the old one, so a reader (the next run, node_exporter's textfile collector) sees the old content or the new,
/// never half of one. The temporary name (`PATH.tmp-PID`) does not end in `.prom`: the collector skips it.
@_spi(Internals) public enum AtomicFile {
    public static func replace(
        _ path: String, with text: String, permissions: mode_t, makingDirectories: Bool = false
    ) throws(FileError) {
        if makingDirectories, let slash = path.lastIndex(of: "/"), slash != path.startIndex {
            try File.makeDirectories(String(path[..<slash]))
        }
        let temporary = path + ".tmp-\(SystemInfo.processID)"
        // A temporary file a killed run left under this pid would keep its old mode: start from none.
        try? File.remove(temporary)
        do {
            let file = try File(temporary, .truncate, permissions: permissions)
            try file.setPermissions(permissions)
            try file.write(text)
            try file.sync()
            try file.closeReporting()
            try File.rename(temporary, to: path)
        } catch {
            try? File.remove(temporary)
            throw error
        }
    }
}
