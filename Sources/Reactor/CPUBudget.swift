internal import CLinux

/// How much CPU this process may use: the CPUs its affinity mask allows, and the cgroup v2 quota (`cpu.max`) of its
/// cgroup and the cgroups above it. Work that could run on a second thread (the upload's SHA-256) only gains when
/// there is a second CPU to run it on; on one, a thread adds hand-offs and costs time.
@_spi(Internals) public struct CPUBudget: Equatable, Sendable {
    /// CPUs in the affinity mask (at least 1).
    public var cores: Int
    /// The tightest cgroup quota, in CPUs (`cpu.max` quota / period); nil when no cgroup limits it.
    public var quotaCPUs: Double?

    public init(cores: Int, quotaCPUs: Double?) {
        self.cores = max(1, cores)
        self.quotaCPUs = quotaCPUs
    }

    /// Read once per process: neither the affinity nor the cgroup of a run changes under it in practice.
    public static let current = CPUBudget.read()

    static func read() -> CPUBudget {
        let cores = Int(cl_affinity_cpu_count())
        var quota: Double?
        if let text = try? File.contents(of: "/proc/self/cgroup", limit: 64 * 1024),
            var path = cgroupPath(String(decoding: text, as: UTF8.self))
        {
            // A limit anywhere above applies too: walk up to the root and keep the tightest.
            while true {
                if let max = try? File.contents(of: "/sys/fs/cgroup" + path + "/cpu.max", limit: 256),
                    let cpus = parseCPUMax(String(decoding: max, as: UTF8.self))
                {
                    quota = Swift.min(quota ?? cpus, cpus)
                }
                guard path != "/", let slash = path.lastIndex(of: "/") else { break }
                path = slash == path.startIndex ? "/" : String(path[..<slash])
            }
        }
        return CPUBudget(cores: cores > 0 ? cores : 1, quotaCPUs: quota)
    }

    /// The cgroup v2 path in /proc/self/cgroup's text (the `0::PATH` line); nil under cgroup v1 only.
    public static func cgroupPath(_ text: String) -> String? {
        for line in text.split(separator: "\n") where line.hasPrefix("0::") {
            let path = line.dropFirst(3)
            guard path.hasPrefix("/") else { return nil }
            // A cgroup whose directory is gone (the process moved) reads " (deleted)"; its limit is unknown.
            return path.hasSuffix(" (deleted)") ? nil : String(path)
        }
        return nil
    }

    /// `cpu.max`'s text, "QUOTA PERIOD" in microseconds or "max PERIOD", as CPUs; nil for no limit or nonsense.
    public static func parseCPUMax(_ text: String) -> Double? {
        let fields = text.split(whereSeparator: { $0 == " " || $0 == "\n" })
        guard fields.count == 2, fields[0] != "max", let quota = Double(fields[0]), let period = Double(fields[1]),
            quota > 0, period > 0
        else { return nil }
        return quota / period
    }
}
