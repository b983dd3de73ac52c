/// One shard of a config (`--shard K/N`): the sources whose name hashes to K modulo N. The hash is FNV-1a 64 of the
/// name's UTF-8 bytes, so a source's shard depends on its name and N alone: adding or removing a source never moves
/// another one, and every machine and release agrees.
@_spi(Internals) public struct Shard: Sendable, Equatable {
    /// K: 0 ≤ index < count.
    public let index: Int
    /// N.
    public let count: Int

    /// The largest N accepted (a Kubernetes Indexed Job's completions are bounded lower still).
    public static let maximumCount = 100_000

    public init?(index: Int, count: Int) {
        guard (1...Self.maximumCount).contains(count), (0..<count).contains(index) else { return nil }
        self.index = index
        self.count = count
    }

    /// FNV-1a 64 of the name's UTF-8 bytes.
    public static func hash(_ name: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in name.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        return hash
    }

    /// The shard of `count` a source named `name` belongs to.
    public static func index(of name: String, count: Int) -> Int { Int(hash(name) % UInt64(count)) }

    public func contains(_ name: String) -> Bool { Self.index(of: name, count: count) == index }

    /// `K/N`, as the command line and the summary write it.
    public var label: String { "\(index)/\(count)" }

    /// `K-of-N`, for file names (lock, state).
    public var fileTag: String { "\(index)-of-\(count)" }

    /// `K/N`, or `auto/N` with K from `JOB_COMPLETION_INDEX` (Kubernetes Indexed Jobs): the shard, or why not.
    public static func parse(_ word: String, completionIndex: String?) -> Result<Shard, ShardError> {
        let parts = word.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let count = Int(parts[1]), (1...maximumCount).contains(count) else {
            return .failure(ShardError("--shard '\(word)' is not K/N or auto/N with N from 1 to \(maximumCount)"))
        }
        let indexWord: String
        if parts[0] == "auto" {
            guard let given = completionIndex, !given.isEmpty else {
                return .failure(ShardError("--shard \(word): JOB_COMPLETION_INDEX is not set (auto needs it)"))
            }
            indexWord = given
        } else {
            indexWord = String(parts[0])
        }
        guard let index = Int(indexWord), let shard = Shard(index: index, count: count) else {
            return .failure(
                ShardError("--shard \(word): the index '\(indexWord)' is not a number from 0 to \(count - 1)"))
        }
        return .success(shard)
    }
}

@_spi(Internals) public struct ShardError: Error, Sendable {
    public let message: String
    init(_ message: String) { self.message = message }
}
