@_spi(Internals) import TLS
import Testing

/// Issue #18 part 3: an upload resumed from a checkpoint publishes the digest of the whole file.
@Suite("the upload's SHA-256 kept at checkpoints, for a resume")
struct CheckpointedDigestTests {
    static func data(_ count: Int, seed: UInt64) -> [UInt8] {
        var generator = SplitMix(seed: seed)
        return (0..<count).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
    }

    /// Feeds `bytes` in pieces of 1 byte to 150 KiB, alternately copied and hashed alongside a "send".
    static func feed(_ digest: CheckpointedDigest, _ bytes: ArraySlice<UInt8>, seed: UInt64) {
        var generator = SplitMix(seed: seed)
        var sent = 0
        bytes.withUnsafeBytes { all in
            var offset = 0
            while offset < all.count {
                let size = min(all.count - offset, 1 + Int(generator.next() % (150 * 1024)))
                let piece = UnsafeRawBufferPointer(rebasing: all[offset..<(offset + size)])
                if generator.next() % 2 == 0 {
                    digest.update(piece)
                } else {
                    var ran = 0
                    digest.update(piece) { ran += 1 }
                    sent += ran
                }
                offset += size
            }
        }
    }

    @Test(
        "resumed from the checkpoint at or below what the server holds, the digest is the whole file's",
        arguments: [
            (DigestMode.inline, 1_000_000 as UInt64), (.threaded, 1_000_000), (.inline, 0), (.threaded, 65_535),
            (.inline, 65_536), (.threaded, 300_000), (.inline, 5_000_000),
        ])
    func resumeGivesTheWholeDigest(mode: DigestMode, serverHolds: UInt64) {
        let interval: UInt64 = 64 * 1024
        let file = Self.data(1_300_000, seed: 9)
        var whole = SHA256()
        whole.update(file)
        let expected = whole.hexDigest()
        let worker = DigestWorker(slotCount: 2, slotSize: 4096)

        let first = CheckpointedDigest(mode: mode, worker: worker, interval: interval, kept: 4)
        Self.feed(first, file[0..<1_100_000], seed: 1)
        #expect(first.offset == 1_100_000)
        // The last 4 checkpoints (16 × 64 KiB = 1,048,576 is the largest): older ones are dropped.
        #expect(first.offsets == [0, 851_968, 917_504, 983_040, 1_048_576])
        let start = first.checkpoint(atOrBelow: serverHolds)
        let wanted = CheckpointedDigest.choose(first.offsets, atOrBelow: serverHolds)
        #expect(start.offset == wanted)
        #expect(start.offset <= serverHolds)

        let resumed = CheckpointedDigest(mode: mode, worker: worker, interval: interval, resumingFrom: start)
        Self.feed(resumed, file[Int(start.offset)...], seed: 2)
        #expect(resumed.offset == UInt64(file.count))
        #expect(resumed.hexDigest() == expected)
        // The first attempt's digest still works on its own (the checkpoint was a copy).
        Self.feed(first, file[1_100_000...], seed: 3)
        #expect(first.hexDigest() == expected)
        #expect(!worker.isRunning)
    }

    @Test(
        "the checkpoint choice: the largest offset at or below the size, else 0",
        arguments: [
            ([0, 8, 16, 24] as [UInt64], 30 as UInt64, 24 as UInt64), ([0, 8, 16, 24], 24, 24),
            ([0, 8, 16, 24], 23, 16),
            ([0, 8, 16, 24], 0, 0), ([0, 8, 16, 24], 7, 0), ([0], 1000, 0), ([0, 40, 48], 39, 0),
        ])
    func choice(offsets: [UInt64], size: UInt64, expected: UInt64) {
        #expect(CheckpointedDigest.choose(offsets, atOrBelow: size) == expected)
    }

    @Test("a snapshot of SHA-256 is independent of the original")
    func snapshotIsACopy() {
        var sha = SHA256()
        sha.update(Array("abc".utf8))
        var copy = sha.snapshot()
        sha.update(Array("def".utf8))
        copy.update(Array("def".utf8))
        let one = sha.hexDigest()
        #expect(one == copy.hexDigest())
        #expect(one == "bef57ec7f53a6d40beb640a780a639c83bc29ac8a9816f1fc6c5c6dcd93c4721")
    }
}
