import Foundation
@_spi(Internals) import Reactor
@_spi(Internals) import TLS
import Testing

@Suite("The upload's SHA-256: inline or on the digest thread, the same digest")
struct DigestWorkerTests {
    @Test(
        "threaded only when more than one CPU may run the process",
        arguments: [
            (1, nil, DigestMode.inline), (2, nil, .threaded), (64, nil, .threaded), (1, 4.0, .inline),
            (2, 1.0, .inline), (2, 0.5, .inline), (4, 1.5, .threaded), (8, 2.0, .threaded), (2, 1.01, .threaded),
        ] as [(Int, Double?, DigestMode)])
    func mode(cores: Int, quota: Double?, expected: DigestMode) {
        #expect(DigestMode.choose(cores: cores, quotaCPUs: quota) == expected)
    }

    @Test(
        "cgroup v2's cpu.max read as CPUs",
        arguments: [
            ("max 100000\n", nil), ("200000 100000\n", 2.0), ("50000 100000", 0.5), ("150000 100000\n", 1.5),
            ("", nil), ("max", nil), ("abc 100000", nil), ("0 100000", nil), ("100000 0", nil),
        ] as [(String, Double?)])
    func cpuMax(text: String, cpus: Double?) {
        #expect(CPUBudget.parseCPUMax(text) == cpus)
    }

    @Test(
        "the process's cgroup v2 path in /proc/self/cgroup",
        arguments: [
            ("0::/user.slice/user-0.slice/session-1.scope\n", "/user.slice/user-0.slice/session-1.scope"),
            ("0::/\n", "/"), ("12:cpu,cpuacct:/docker/abc\n0::/docker/abc\n", "/docker/abc"),
            ("12:cpu,cpuacct:/docker/abc\n", nil), ("0::/gone (deleted)\n", nil), ("", nil),
        ] as [(String, String?)])
    func cgroupPath(text: String, path: String?) {
        #expect(CPUBudget.cgroupPath(text) == path)
    }

    @Test("this machine's budget: the affinity mask's CPUs, at least one")
    func current() {
        #expect(CPUBudget.current.cores >= 1)
        #expect(CPUBudget.current.cores <= 4096)
    }

    /// Feeds `data` in pseudo-random pieces (1 byte to 600 KiB) to a fresh digest, each piece either copied to the
    /// worker or hashed alongside a "send" that reads the same bytes.
    static func digest(_ data: [UInt8], mode: DigestMode, worker: DigestWorker, seed: UInt64) -> (String, Bool) {
        var generator = SplitMix(seed: seed)
        let digest = TransferDigest(mode: mode, worker: worker)
        var offset = 0
        var sentSum = 0
        data.withUnsafeBytes { all in
            while offset < all.count {
                let size = min(all.count - offset, 1 + Int(generator.next() % (600 * 1024)))
                let piece = UnsafeRawBufferPointer(rebasing: all[offset..<(offset + size)])
                if generator.next() % 2 == 0 {
                    digest.update(piece)
                } else {
                    digest.update(piece) { sentSum &+= Int(piece[piece.count - 1]) }
                }
                offset += size
            }
        }
        let threaded = digest.isThreaded
        return (digest.hexDigest(), threaded)
    }

    static func inlineDigest(_ data: [UInt8]) -> String {
        var sha = SHA256()
        sha.update(data)
        return sha.hexDigest()
    }

    @Test("threaded, through a tiny ring, the digest is the inline one; the thread stops when the last digest ends")
    func threadedEqualsInline() {
        var generator = SplitMix(seed: 42)
        let data = (0..<(5 << 20)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
        let expected = Self.inlineDigest(data)
        // Two slots of 4 KiB: every piece fills the ring many times over, so the producer waits for the hasher.
        let worker = DigestWorker(slotCount: 2, slotSize: 4096)
        for seed in 1...3 {
            let (hex, threaded) = Self.digest(data, mode: .threaded, worker: worker, seed: UInt64(seed))
            #expect(hex == expected)
            #expect(threaded)
            #expect(!worker.isRunning)
        }
        let (hex, threaded) = Self.digest(data, mode: .inline, worker: worker, seed: 7)
        #expect(hex == expected && !threaded)
    }

    @Test("digests on several threads share the worker, each gets its own digest")
    func concurrentDigests() async {
        let worker = DigestWorker(slotCount: 3, slotSize: 64 * 1024)
        let results = await withTaskGroup(of: (String, String).self) { group in
            for index in 0..<4 {
                group.addTask {
                    var generator = SplitMix(seed: UInt64(100 + index))
                    let data = (0..<((2 << 20) + index * 77_777)).map { _ in
                        UInt8(truncatingIfNeeded: generator.next())
                    }
                    let (hex, _) = Self.digest(data, mode: .threaded, worker: worker, seed: UInt64(index))
                    return (hex, Self.inlineDigest(data))
                }
            }
            var all: [(String, String)] = []
            for await result in group { all.append(result) }
            return all
        }
        #expect(results.count == 4)
        for (got, expected) in results { #expect(got == expected) }
        #expect(!worker.isRunning)
    }

    @Test("a small upload never wakes the thread; one dropped unfinished lets it stop")
    func smallAndDropped() {
        let worker = DigestWorker(slotCount: 2, slotSize: 4096)
        let small = [UInt8](repeating: 7, count: TransferDigest.handOffAfter)
        let (hex, threaded) = Self.digest(small, mode: .threaded, worker: worker, seed: 1)
        #expect(hex == Self.inlineDigest(small) && !threaded)
        #expect(!worker.isRunning)
        do {
            let digest = TransferDigest(mode: .threaded, worker: worker)
            let big = [UInt8](repeating: 1, count: 3 << 20)
            big.withUnsafeBytes { digest.update($0) }
            #expect(digest.isThreaded && worker.isRunning)
        }
        #expect(!worker.isRunning)
    }
}

/// A small deterministic generator, so a failure repeats.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
