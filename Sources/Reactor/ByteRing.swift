/// Bytes in order in one buffer that wraps around: what a socket could not take yet, or ciphertext that arrived before
/// TLS wanted it. Appending and consuming move two indices and copy nothing else, so a queue that fills and drains
/// at the same pace allocates nothing once its buffer has grown to the largest backlog (an array of chunks allocated
/// one per chunk). Storage is allocated on first use and given back with `release()`.
@_spi(Internals) public struct ByteRing: ~Copyable {
    private var storage: UnsafeMutableRawBufferPointer?
    /// Index of the oldest byte.
    private var head = 0
    public private(set) var count = 0

    public init() {}

    deinit { storage?.deallocate() }

    public var isEmpty: Bool { count == 0 }
    /// Bytes of storage held (0 when none is allocated).
    public var capacity: Int { storage?.count ?? 0 }

    /// The oldest bytes that lie contiguously in the buffer: all of them unless they wrap around the end, in which
    /// case a second call after `consume` gives the rest.
    public var firstSpan: UnsafeRawBufferPointer {
        guard let storage, count > 0 else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        let end = min(head + count, storage.count)
        return UnsafeRawBufferPointer(rebasing: storage[head..<end])
    }

    /// Drops the `n` oldest bytes (sent, or handed on).
    public mutating func consume(_ n: Int) {
        precondition(n >= 0 && n <= count, "ByteRing.consume(\(n)) with \(count) bytes queued")
        count -= n
        // Empty: start again at the front, so that the next bytes lie in one span.
        head = count == 0 ? 0 : (head + n) % capacity
    }

    /// Copies `bytes` in after the newest, growing the buffer if they do not fit.
    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        guard !bytes.isEmpty else { return }
        reserve(count + bytes.count)
        let storage = storage!
        let tail = (head + count) % storage.count
        let first = min(bytes.count, storage.count - tail)
        UnsafeMutableRawBufferPointer(rebasing: storage[tail..<(tail + first)])
            .copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[..<first]))
        if first < bytes.count {
            UnsafeMutableRawBufferPointer(rebasing: storage[..<(bytes.count - first)])
                .copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[first...]))
        }
        count += bytes.count
    }

    /// Moves up to `destination.count` of the oldest bytes out; returns how many.
    public mutating func read(into destination: UnsafeMutableRawBufferPointer) -> Int {
        var copied = 0
        while copied < destination.count && count > 0 {
            let span = firstSpan
            let n = min(span.count, destination.count - copied)
            UnsafeMutableRawBufferPointer(rebasing: destination[copied..<(copied + n)])
                .copyMemory(from: UnsafeRawBufferPointer(rebasing: span[..<n]))
            consume(n)
            copied += n
        }
        return copied
    }

    /// Makes room for `total` bytes. Growth at least doubles, so a backlog that creeps up costs few reallocations;
    /// the queued bytes are moved to the front of the new buffer in order.
    public mutating func reserve(_ total: Int) {
        guard total > capacity else { return }
        let size = (max(total, capacity * 2) + 255) & ~255
        let grown = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 16)
        if let old = storage {
            let queued = count
            let moved = read(into: grown)
            assert(moved == queued)
            old.deallocate()
            count = queued
        }
        storage = grown
        head = 0
    }

    /// Gives the storage back; only when empty (queued bytes are never dropped by this).
    public mutating func release() {
        guard count == 0, let storage else { return }
        storage.deallocate()
        self.storage = nil
        head = 0
    }

    /// Drops every queued byte and the storage (a stream that closed).
    public mutating func removeAll() {
        count = 0
        head = 0
        release()
    }
}
