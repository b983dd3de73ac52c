import Foundation
@_spi(Internals) import TestSupport
import Testing

/// The passthrough path allocates nothing per chunk (#16, item 1): the binary runs HTTP → FTPS twice, 10 MiB and
/// 100 MiB, under an LD_PRELOAD allocation counter (Tests/AllocCounter; glibc 2.36 has no malloc hooks), and what the
/// extra 90 MiB cost is compared. Allocations are counted by caller: OpenSSL's own, and everything else (Swift's
/// runtime and standard library, our code, libc).
@Suite("No allocation per chunk on the HTTP → FTPS passthrough")
struct PassthroughAllocationTests {
    init() throws {
        try TestEnv.require(.nginxHTTP, .vsftpd)
    }

    struct Counts {
        var other: Int
        var openssl: Int
    }

    @Test("100 MiB costs fewer than 1,000 allocations more than 10 MiB outside OpenSSL, and 3 per TLS record inside")
    func allocationsDoNotGrowWithSize() throws {
        let scenario = try Scenario("allocations")
        defer { try? FileManager.default.removeItem(atPath: scenario.target) }
        let counter = try Self.buildCounter(in: scenario.directory)
        let small = try Self.run(scenario, file: try Self.file(mebibytes: 10), counter: counter)
        let large = try Self.run(scenario, file: try Self.file(mebibytes: 100), counter: counter)
        let other = large.other - small.other
        let openssl = large.openssl - small.openssl
        #expect(other < 1_000, "allocations outside OpenSSL: 10 MiB \(small.other), 100 MiB \(large.other)")
        // OpenSSL 3.0 allocates while it seals each record (its WPACKET takes two or three small blocks), whatever
        // the BIO: that much is the floor. More would mean buffers released and allocated again per write
        // (SSL_MODE_RELEASE_BUFFERS during a transfer), or a copy of ours through OpenSSL.
        let records = 90 * 1024 * 1024 / (16 * 1024)
        #expect(
            openssl <= 3 * records + 200,
            "OpenSSL's allocations: 10 MiB \(small.openssl), 100 MiB \(large.openssl), for \(records) more records")
    }

    /// A file of `mebibytes` MiB in nginx's directory, made once.
    static func file(mebibytes: Int) throws -> String {
        let name = "alloc-\(mebibytes)m.bin"
        let path = TestEnv.wwwDirectory + "/" + name
        let size = mebibytes * 1024 * 1024
        if (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) != size {
            var block = [UInt8](repeating: 0x2c, count: 1024 * 1024)
            let temporary = path + ".\(getpid())"
            _ = FileManager.default.createFile(atPath: temporary, contents: nil)
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: temporary))
            for index in 0..<mebibytes {
                for offset in stride(from: 0, to: block.count, by: 64) {
                    block[offset] = UInt8(truncatingIfNeeded: index &+ offset >> 6)
                }
                handle.write(Data(block))
            }
            try handle.close()
            _ = rename(temporary, path)
        }
        return name
    }

    /// Compiles the counter into `directory` with the toolchain's clang (or the system's cc).
    static func buildCounter(in directory: String) throws -> String {
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../AllocCounter/alloc-counter.c").standardized.path
        let output = directory + "/alloc-counter.so"
        for compiler in ["clang", "cc"] {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = [compiler, "-shared", "-fPIC", "-O2", "-o", output, source]
            process.standardError = FileHandle.nullDevice
            try process.run()
            process.waitUntilExit()
            if process.terminationStatus == 0 { return output }
        }
        throw TestFailure("could not compile \(source) with clang or cc")
    }

    static func run(_ scenario: Scenario, file: String, counter: String) throws -> Counts {
        let report = scenario.directory + "/counts-\(file)"
        let name = file.replacingOccurrences(of: ".", with: "_")
        try scenario.writeConfig("{\"\(name)\": {\"URL\": \"\(http)/\(file)\", \"PARAMS\": {}}}")
        var environment = scenario.environment
        environment["LD_PRELOAD"] = counter
        environment["ALLOC_COUNTER_FILE"] = report
        let run = try scenario.run("sequential", ["--quiet"], environment: environment)
        try #require(run.status == 0, "\(run.error)")
        let sent = try FileManager.default.attributesOfItem(atPath: TestEnv.wwwDirectory + "/" + file)[.size] as? Int
        let published =
            try FileManager.default.attributesOfItem(atPath: scenario.target + "/" + name + ".csv")[.size] as? Int
        #expect(published == sent)
        // One line per process that loaded the counter: the binary's.
        let lines = try String(contentsOfFile: report, encoding: .utf8).split(separator: "\n")
        try #require(lines.count == 1, "\(lines)")
        let fields = lines[0].split(separator: " ").compactMap { Int($0) }
        try #require(fields.count == 3, "\(lines[0])")
        return Counts(other: fields[1], openssl: fields[2])
    }
}
