/// A growable buffer on raw memory for the CSV hot path. Appending to an Array checks uniqueness and capacity
/// through the runtime on every call (measured: a third of the transform's time); this checks capacity only.
/// A value type over shared storage: exactly one copy may be written at a time (the transformer's local copy while a
/// chunk is processed), and the storage frees the memory when the last copy goes.
struct RawBuffer<Element: BitwiseCopyable> {
    private final class Storage {
        var base: UnsafeMutablePointer<Element>

        init(capacity: Int) { base = .allocate(capacity: capacity) }

        deinit { base.deallocate() }
    }

    private let storage: Storage
    private var base: UnsafeMutablePointer<Element>
    private(set) var count = 0
    private var capacity: Int

    init(capacity: Int = 4096) {
        self.capacity = max(capacity, 16)
        storage = Storage(capacity: self.capacity)
        base = storage.base
    }

    var isEmpty: Bool { count == 0 }
    var bytes: UnsafeBufferPointer<Element> { UnsafeBufferPointer(start: base, count: count) }

    subscript(index: Int) -> Element { base[index] }

    func bytes(from start: Int) -> UnsafeBufferPointer<Element> {
        UnsafeBufferPointer(start: base + start, count: count - start)
    }

    /// Makes room for `extra` more bytes and returns where they go; `commit` says how many were written.
    @inline(__always)
    mutating func reserve(_ extra: Int) -> UnsafeMutablePointer<Element> {
        if count + extra > capacity { grow(count + extra) }
        return base + count
    }

    @inline(__always)
    mutating func commit(_ written: Int) { count += written }

    /// Room left before the next `reserve` or `append` must grow the buffer.
    var spare: Int { capacity - count }

    private mutating func grow(_ needed: Int) {
        let newCapacity = max(needed, capacity * 2)
        let fresh = UnsafeMutablePointer<Element>.allocate(capacity: newCapacity)
        fresh.update(from: base, count: count)
        storage.base.deallocate()
        storage.base = fresh
        base = fresh
        capacity = newCapacity
    }

    @inline(__always)
    mutating func append(_ byte: Element) {
        if count == capacity { grow(count + 1) }
        base[count] = byte
        count += 1
    }

    @inline(__always)
    mutating func append(_ bytes: UnsafeBufferPointer<Element>) {
        guard let source = bytes.baseAddress, !bytes.isEmpty else { return }
        reserve(bytes.count).update(from: source, count: bytes.count)
        count += bytes.count
    }

    /// Drops everything from `start` on.
    mutating func removeSubrange(_ range: PartialRangeFrom<Int>) {
        precondition(range.lowerBound >= 0 && range.lowerBound <= count)
        count = range.lowerBound
    }

    mutating func removeAll() { count = 0 }
}

typealias ByteWriter = RawBuffer<UInt8>

extension RawBuffer where Element == UInt8 {
    @inline(__always)
    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        append(bytes.assumingMemoryBound(to: UInt8.self))
    }

    /// Appends `bytes` with every `old` byte written as `new` (a row's separators swapped for the output's).
    @inline(__always)
    mutating func append(_ bytes: UnsafeRawBufferPointer, replacing old: UInt8, with new: UInt8) {
        let target = reserve(bytes.count)
        for index in 0..<bytes.count {
            let byte = bytes[index]
            target[index] = byte == old ? new : byte
        }
        commit(bytes.count)
    }

    mutating func append<S: Sequence<UInt8>>(contentsOf bytes: S) {
        for byte in bytes { append(byte) }
    }

    static func += <S: Sequence<UInt8>>(writer: inout RawBuffer<UInt8>, bytes: S) { writer.append(contentsOf: bytes) }
}
