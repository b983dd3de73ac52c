/// An upload's SHA-256 with its state kept at every multiple of `interval` bytes: an interrupted upload resumed from
/// the largest checkpoint the server has (REST N) still publishes the exact digest of the whole file. Only the last
/// `kept` checkpoints are held (a server holds back at most what sat in socket buffers when the connection died), so
/// memory stays bounded however large the file; offset 0 is always there. Loop-thread only.
@_spi(Internals) public final class CheckpointedDigest {
    /// 8 MiB: a resume re-sends at most that much more than the server lost, for one state copy (and one wait for
    /// the digest thread) per 8 MiB.
    public static let defaultInterval: UInt64 = 8 << 20
    public static let defaultKept = 8

    public let interval: UInt64
    private let kept: Int
    private let digest: TransferDigest
    /// Bytes hashed, counted from the file's start (a resumed digest starts at its checkpoint).
    public private(set) var offset: UInt64
    /// Oldest first, each at a multiple of `interval`.
    private var checkpoints: [(offset: UInt64, state: SHA256)] = []

    /// `resumingFrom`: a checkpoint this digest goes on from (its bytes are not given again).
    public init(
        mode: DigestMode = .current, worker: DigestWorker = .shared, interval: UInt64 = defaultInterval,
        kept: Int = defaultKept, resumingFrom start: (offset: UInt64, state: SHA256)? = nil
    ) {
        precondition(interval > 0 && kept > 0)
        self.interval = interval
        self.kept = kept
        digest = TransferDigest(mode: mode, worker: worker, resumingFrom: start?.state)
        offset = start?.offset ?? 0
        if let start, start.offset > 0 { checkpoints.append((start.offset, start.state.snapshot())) }
    }

    /// The offsets a resume may start from now, smallest first (0 included).
    public var offsets: [UInt64] { [0] + checkpoints.map(\.offset) }

    /// The checkpoint to resume from when the server holds `size` bytes of the file: the largest at or below it
    /// (offset 0 with a fresh state when none is).
    public func checkpoint(atOrBelow size: UInt64) -> (offset: UInt64, state: SHA256) {
        let chosen = Self.choose(offsets, atOrBelow: size)
        guard chosen > 0, let found = checkpoints.last(where: { $0.offset == chosen }) else { return (0, SHA256()) }
        return (found.offset, found.state.snapshot())
    }

    /// The largest of `offsets` at or below `size`, or 0.
    public static func choose(_ offsets: [UInt64], atOrBelow size: UInt64) -> UInt64 {
        offsets.filter { $0 <= size }.max() ?? 0
    }

    public func update(_ bytes: UnsafeRawBufferPointer) {
        var rest = bytes
        while !rest.isEmpty {
            let head = take(&rest)
            digest.update(head)
            advance(by: head.count)
        }
    }

    /// As `TransferDigest.update(_:alongside:)`: `work` runs once, over all of `bytes`. A piece that crosses a
    /// checkpoint has its part before it hashed first (copied to the worker), the rest alongside `work`.
    public func update(_ bytes: UnsafeRawBufferPointer, alongside work: () -> Void) {
        var rest = bytes
        while true {
            let head = take(&rest)
            if rest.isEmpty {
                digest.update(head, alongside: work)
                return advance(by: head.count)
            }
            digest.update(head)
            advance(by: head.count)
        }
    }

    public func hexDigest() -> String { digest.hexDigest() }

    /// Splits off the part of `rest` up to the next checkpoint.
    private func take(_ rest: inout UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        let toBoundary = interval - offset % interval
        let count = Int(min(UInt64(rest.count), toBoundary))
        let head = UnsafeRawBufferPointer(rebasing: rest[..<count])
        rest = UnsafeRawBufferPointer(rebasing: rest[count...])
        return head
    }

    private func advance(by count: Int) {
        guard count > 0 else { return }
        offset += UInt64(count)
        guard offset % interval == 0 else { return }
        checkpoints.append((offset, digest.snapshot()))
        if checkpoints.count > kept { checkpoints.removeFirst(checkpoints.count - kept) }
    }
}
