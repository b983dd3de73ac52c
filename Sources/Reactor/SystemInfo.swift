import Glibc

/// Facts about this process and host: names that must be unique and recognisable (temporary upload names), and the
/// resources a run holds, so that a leak shows in the log of the run that caused it.
@_spi(Internals) public enum SystemInfo {
    public static var processID: Int32 { getpid() }

    /// Whether process `pid` exists here. One we may not signal exists too (EPERM); a pid that cannot be one
    /// counts as alive, so that nothing is taken for a dead run's by mistake.
    public static func processIsAlive(_ pid: Int) -> Bool {
        guard pid > 0, pid <= Int(Int32.max) else { return true }
        return kill(pid_t(pid), 0) == 0 || errno != ESRCH
    }

    /// The host name, or "localhost" when it cannot be had.
    public static var hostName: String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return name.isEmpty ? "localhost" : name
    }

    /// Descriptors this process has open (not counting the one used to count them), or nil without /proc.
    public static var openDescriptorCount: Int? {
        guard let directory = opendir("/proc/self/fd") else { return nil }
        defer { closedir(directory) }
        var count = 0
        while let entry = readdir(directory) {
            if entry.pointee.d_name.0 != CChar(UInt8(ascii: ".")) { count += 1 }
        }
        return count - 1
    }

    /// The most memory this process has had resident so far, in KiB: VmHWM, which starts afresh at exec — unlike
    /// getrusage's ru_maxrss, which keeps the peak of the process that forked us (a test runner's 300 MB, say).
    public static var peakResidentKiB: Int {
        if let status = try? File.contents(of: "/proc/self/status", limit: 64 * 1024) {
            let text = String(decoding: status, as: UTF8.self)
            if let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
                let kib = Int(line.dropFirst(6).filter { $0.isNumber })
            {
                return kib
            }
        }
        var usage = rusage()
        guard getrusage(RUSAGE_SELF.rawValue, &usage) == 0 else { return 0 }
        return usage.ru_maxrss
    }
}
