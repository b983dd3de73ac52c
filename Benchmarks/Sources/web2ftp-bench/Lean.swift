import Foundation

/// The cases issue #16 added: everything on one core, an idle `schedule`, and where the instructions of the whole
/// passthrough path go (callgrind: repeatable on a noisy machine, unlike the wall clock).
extension Compare {
    /// HTTP → FTPS, 1 GiB, with web2ftp or curl | curl and the servers all on one CPU: the small-server case, where
    /// CPU is wall time.
    mutating func oneCore() throws {
        let servers = try serverPIDs()
        let all = "0-\(ProcessInfo.processInfo.activeProcessorCount - 1)"
        try pin(servers, to: "0")
        defer { try? pin(servers, to: all) }
        let file = "bench-1g.csv"
        let url = httpURL + "/" + file
        let expected = try Measure.sha256(ofFile: www + "/" + file)
        let target = uploads + "/big.csv"
        let ours = try web2ftpCommand(sources: [("big", url)], mode: "sequential", ftps: true)
            .replacingOccurrences(of: "{TIME} ", with: "{TIME} taskset -c 0 ")
        let curl =
            "{TIME} taskset -c 0 curl -sS --fail '\(url)' | {TIME} taskset -c 0 \(curlUpload(ftps: true, path: target))"
        try alternate(
            "HTTP → FTPS, 1 GiB, one core (client and servers on CPU 0)", bytes: try fileSize(www + "/" + file),
            contenders: [("web2ftp", ours, ftpEnv(true)), ("curl | curl", curl, [:])]
        ) {
            let got = try Measure.sha256(ofFile: target)
            try? FileManager.default.removeItem(atPath: target)
            guard got == expected else { throw MeasureError.verification("one core: uploaded SHA-256 \(got)") }
        }
    }

    /// SHA-256 alone under callgrind, the way `scripts/bench.sh` measures it: the 16 MiB run minus the 8 MiB run.
    static func sha256InstructionsPerByte() throws -> Double {
        var counts: [Double] = []
        for mib in [8, 16] {
            let out = Measure.scratch + "/callgrind-sha-\(mib).out"
            let bench = CommandLine.arguments[0]
            _ = try Measure.run(
                "sha256 under callgrind",
                "valgrind --tool=callgrind --callgrind-out-file=\(out) \(bench) micro sha256 --mib \(mib) --repeat 1")
            counts.append(try Callgrind.selfCost(byPartIn: out).values.reduce(0, +))
        }
        return (counts[1] - counts[0]) / Double(8 << 20)
    }

    /// nginx's and vsftpd's processes (the listeners: a forked session inherits the listener's CPU mask).
    func serverPIDs() throws -> [String] {
        let output = try Measure.output("/usr/bin/pgrep", ["-f", "web2ftp-test-servers/(nginx|vsftpd)"])
        let pids = output.split(separator: "\n").map(String.init)
        guard !pids.isEmpty else { throw MeasureError.verification("no nginx/vsftpd of scripts/test-servers.sh") }
        return pids
    }

    func pin(_ pids: [String], to cpus: String) throws {
        for pid in pids { _ = try? Measure.output("/usr/bin/taskset", ["-a", "-p", "-c", cpus, pid]) }
    }

    /// RSS and CPU of a `schedule` waiting for its next run: right after start, and after one run.
    mutating func idleSchedule() throws {
        say("… idle schedule")
        let name = DataSet.smallName(1)
        let config = Measure.scratch + "/config-idle.json"
        try "{\"idle\": {\"URL\": \"\(httpsURL)/\(name)\", \"PARAMS\": {}}}\n"
            .write(toFile: config, atomically: true, encoding: .utf8)
        let hour = (Calendar.current.component(.hour, from: Date()) + 12) % 24
        var lines: [String] = []
        for runNow in [false, true] {
            let target = uploads + "/idle.csv"
            try? FileManager.default.removeItem(atPath: target)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: web2ftp)
            process.arguments =
                [
                    "schedule", "sequential", "--config", config, "--at", String(format: "%02d:00", hour), "--cacert",
                    ca, "--log", Measure.scratch + "/etl_pipeline.log", "--quiet", "--force",
                ] + (runNow ? ["--run-now"] : [])
            process.environment = ProcessInfo.processInfo.environment.merging(ftpEnv(true)) { $1 }
            process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
            process.standardError = FileHandle(forWritingAtPath: "/dev/null")
            try process.run()
            defer {
                process.terminate()
                process.waitUntilExit()
            }
            if runNow {
                for _ in 0..<100 where !FileManager.default.fileExists(atPath: target) { usleep(100_000) }
                guard FileManager.default.fileExists(atPath: target) else {
                    throw MeasureError.verification("idle schedule: --run-now published nothing")
                }
            }
            sleep(3)
            let pid = process.processIdentifier
            let before = try Self.cpuTicks(pid)
            sleep(10)
            let after = try Self.cpuTicks(pid)
            let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
            let field = { (key: String) -> Double in
                let line = status.split(separator: "\n").first { $0.hasPrefix(key + ":") } ?? ""
                return Double(line.split(separator: " ").dropFirst().first ?? "0").map { $0 / 1024 } ?? 0
            }
            lines.append(
                String(
                    format: "%@: RSS %.1f MiB (anonymous %.1f, file-backed %.1f), CPU over 10 s idle %d ticks",
                    runNow ? "after one run" : "started, waiting", field("VmRSS"), field("RssAnon"), field("RssFile"),
                    after - before))
        }
        report.notes.append(
            "web2ftp `schedule` idle between runs (target: 0 CPU, RSS ≤ 8 MiB): " + lines.joined(separator: "; "))
    }

    static func cpuTicks(_ pid: Int32) throws -> Int {
        let stat = try String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)
        // The fields after the command name, which may hold spaces, start after its closing parenthesis.
        let fields = stat[stat.range(of: ")", options: .backwards)!.upperBound...].split(separator: " ")
        return (Int(fields[11]) ?? 0) + (Int(fields[12]) ?? 0)
    }

    /// Instructions per byte of the whole HTTP → FTPS passthrough (the client process: the 64 MiB run minus the
    /// 32 MiB run, over 32 MiB) and where they go, by object and, in libcrypto, SHA-256 and AES.
    mutating func wholePath() throws {
        say("… whole path under callgrind (HTTP → FTPS, 32 and 64 MiB)")
        var costs: [Int: [String: Double]] = [:]
        for (file, mib) in DataSet.pathSizes.map({ ($0.name, $0.bytes >> 20) }) {
            let out = Measure.scratch + "/callgrind-\(mib).out"
            let command = try web2ftpCommand(sources: [("path", httpURL + "/" + file)], mode: "sequential", ftps: true)
                .replacingOccurrences(
                    of: "{TIME} ", with: "valgrind --tool=callgrind --callgrind-out-file=\(out) ")
            _ = try Measure.run("web2ftp under callgrind, \(mib) MiB", command, environment: ftpEnv(true))
            let expected = try Measure.sha256(ofFile: www + "/" + file)
            let got = try Measure.sha256(ofFile: uploads + "/path.csv")
            try? FileManager.default.removeItem(atPath: uploads + "/path.csv")
            guard got == expected else { throw MeasureError.verification("callgrind run: uploaded SHA-256 \(got)") }
            costs[mib] = try Callgrind.selfCost(byPartIn: out)
        }
        guard let small = costs[32], let big = costs[64] else { return }
        var perByte = big.merging(small.mapValues { -$0 }) { $0 + $1 }.mapValues { $0 / Double(32 << 20) }
        let sha = min(try Self.sha256InstructionsPerByte(), perByte["libcrypto", default: 0])
        perByte["libcrypto SHA-256 (its micro-benchmark's count)"] = sha
        perByte["libcrypto AES-GCM and the rest"] = perByte["libcrypto", default: 0] - sha
        perByte["libcrypto"] = nil
        perByte = perByte.filter { $0.value >= 0.005 }
        let total = perByte.values.reduce(0, +)
        let ours = perByte.filter { !$0.key.hasPrefix("libcrypto") }.values.reduce(0, +)
        let parts = perByte.sorted { $0.value > $1.value }.map {
            String(format: "%@ %.2f (%.1f %%)", $0.key, $0.value, 100 * $0.value / total)
        }
        report.notes.append(
            String(
                format:
                    "whole path, HTTP → FTPS passthrough, client instructions per byte under callgrind (64 MiB run "
                    + "minus 32 MiB run; the kernel not counted; callgrind runs SHA-256 without SHA-NI): %.2f — %@. "
                    + "Outside libcrypto: %.1f %% of all, %.1f %% of all but the SHA-256 (target ≤ 10 %%)",
                total, parts.joined(separator: ", "), 100 * ours / total, 100 * ours / (total - sha)))
    }
}

/// Self cost per part of the process from a callgrind output file (its `ob=`/`fn=` name compression understood).
enum Callgrind {
    static func selfCost(byPartIn path: String) throws -> [String: Double] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var objects: [String: String] = [:]
        var functions: [String: String] = [:]
        var object = ""
        var function = ""
        var afterCall = false
        var costs: [String: Double] = [:]
        // "(12) name" defines id 12; "(12)" refers to it.
        func resolve(_ value: Substring, in table: inout [String: String]) -> String {
            guard value.hasPrefix("("), let close = value.firstIndex(of: ")") else { return String(value) }
            let id = String(value[...close])
            let name = value[value.index(after: close)...].trimmingCharacters(in: .whitespaces)
            if !name.isEmpty { table[id] = name }
            return table[id] ?? id
        }
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            if line.hasPrefix("ob=") {
                object = resolve(line.dropFirst(3), in: &objects)
            } else if line.hasPrefix("fn=") {
                function = resolve(line.dropFirst(3), in: &functions)
            } else if line.hasPrefix("cob=") {
                _ = resolve(line.dropFirst(4), in: &objects)
            } else if line.hasPrefix("cfn=") {
                _ = resolve(line.dropFirst(4), in: &functions)
            } else if line.hasPrefix("calls=") {
                afterCall = true
            } else if let first = line.first, first.isNumber || first == "+" || first == "-" || first == "*" {
                if afterCall {
                    afterCall = false  // the inclusive cost of that call: counted where it was spent
                    continue
                }
                let fields = line.split(separator: " ")
                guard fields.count >= 2, let cost = Double(fields[1]) else { continue }
                costs[part(object: object, function: function), default: 0] += cost
            }
        }
        return costs
    }

    static func part(object: String, function: String) -> String {
        let name = object.split(separator: "/").last.map(String.init) ?? object
        // Debian's libcrypto has no symbols for its assembly (SHA-256, AES-GCM): `wholePath` tells them apart with
        // the SHA-256 micro-benchmark's own count.
        if name.hasPrefix("libcrypto") { return "libcrypto" }
        if name.hasPrefix("libssl") { return "libssl" }
        if name.hasPrefix("libc.so") || name.hasPrefix("libc-") {
            return function.contains("memcpy") || function.contains("memmove") ? "libc memcpy" : "libc other"
        }
        if name.hasPrefix("ld-linux") { return "dynamic loader" }
        if name.hasPrefix("libz") { return "zlib" }
        if name.contains("web2ftp") { return "web2ftp (our code and the Swift runtime)" }
        return "other (" + name + ")"
    }
}
