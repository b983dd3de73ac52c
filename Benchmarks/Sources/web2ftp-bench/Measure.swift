import Foundation
@_spi(Internals) import TLS

/// One run of one contender: wall time measured here; CPU and peak RSS from /usr/bin/time around each process.
struct Sample {
    var wall: Double
    /// User + system seconds of every client process (summed over the pipeline's processes).
    var cpu: Double
    /// Sum of the pipeline's processes' peak RSS (they run at the same time), KiB.
    var rssKiB: Int
}

enum MeasureError: Error, CustomStringConvertible {
    case failed(String, status: Int32, stderr: String)
    case verification(String)

    var description: String {
        switch self {
        case .failed(let what, let status, let stderr): "\(what) exited with \(status): \(stderr.suffix(600))"
        case .verification(let what): what
        }
    }
}

enum Measure {
    static let scratch = NSTemporaryDirectory() + "web2ftp-bench-\(getpid())"

    /// Runs `command` with /bin/sh. Each `{TIME}` in it becomes a /usr/bin/time prefix writing its own file; the
    /// sample sums what those files report.
    static func run(_ what: String, _ command: String, environment: [String: String] = [:]) throws -> Sample {
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        var text = command
        var files: [String] = []
        while let range = text.range(of: "{TIME}") {
            let file = "\(scratch)/time-\(files.count)"
            try? FileManager.default.removeItem(atPath: file)
            files.append(file)
            text.replaceSubrange(range, with: "/usr/bin/time -f '%e %U %S %M' -o \(file)")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", text]
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        let start = DispatchTime.now().uptimeNanoseconds
        try process.run()
        let stderr = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let wall = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        guard process.terminationStatus == 0 else {
            throw MeasureError.failed(
                what, status: process.terminationStatus, stderr: String(decoding: stderr, as: UTF8.self))
        }
        var sample = Sample(wall: wall, cpu: 0, rssKiB: 0)
        for file in files {
            // /usr/bin/time may print "Command exited with non-zero status" first: the figures are the last line.
            let line = (try? String(contentsOfFile: file, encoding: .utf8))?.split(separator: "\n").last ?? ""
            let fields = line.split(separator: " ").compactMap { Double($0) }
            guard fields.count == 4 else { throw MeasureError.verification("\(what): no timing in \(file): \(line)") }
            sample.cpu += fields[1] + fields[2]
            sample.rssKiB += Int(fields[3])
        }
        return sample
    }

    /// Runs `argv` directly and returns what it wrote to stdout.
    static func output(_ executable: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    /// Runs `argv` directly (no shell), waits with wait4 and returns its user + system CPU in milliseconds, to the
    /// microsecond: /usr/bin/time's centiseconds cannot tell 10 ms from 19.
    static func cpuMilliseconds(_ argv: [String], environment: [String: String] = [:]) throws -> Double {
        let merged = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let arguments: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        let variables: [UnsafeMutablePointer<CChar>?] = merged.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in arguments + variables { free(pointer) }
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        var pid: pid_t = 0
        let status = posix_spawn(&pid, argv[0], &actions, nil, arguments, variables)
        guard status == 0 else { throw MeasureError.verification("cannot start \(argv[0]): errno \(status)") }
        var exitStatus: Int32 = 0
        var usage = rusage()
        guard wait4(pid, &exitStatus, 0, &usage) == pid, exitStatus == 0 else {
            throw MeasureError.failed(argv.joined(separator: " "), status: exitStatus, stderr: "")
        }
        let seconds = { (time: timeval) in Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
        return (seconds(usage.ru_utime) + seconds(usage.ru_stime)) * 1000
    }

    static func sha256(ofFile path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw MeasureError.verification("\(path) is missing")
        }
        defer { try? handle.close() }
        var digest = SHA256()
        while let data = try handle.read(upToCount: 1 << 20), !data.isEmpty {
            data.withUnsafeBytes { digest.update($0) }
        }
        return digest.hexDigest()
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return .nan }
        return sorted.count % 2 == 1
            ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }
}
