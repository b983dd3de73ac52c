@_spi(Internals) import Reactor
import Testing

@Suite("ByteRing: bytes out in the order they went in, wrapped or grown")
struct ByteRingTests {
    /// Drains `ring` span by span, as a socket write does.
    func drain(_ ring: inout ByteRing, upTo limit: Int) -> [UInt8] {
        var out: [UInt8] = []
        while out.count < limit && !ring.isEmpty {
            let span = ring.firstSpan
            let n = min(span.count, limit - out.count)
            out += span[..<n]
            ring.consume(n)
        }
        return out
    }

    @Test("random appends and partial drains match a plain array, across wrap-arounds and growth", arguments: 1...20)
    func matchesModel(seed: UInt64) {
        var state = seed &* 0x9E37_79B9_7F4A_7C15
        func next(_ bound: Int) -> Int {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return Int(state % UInt64(bound))
        }
        var ring = ByteRing()
        var model: [UInt8] = []
        var counter: UInt8 = 0
        var out: [UInt8] = []
        var expected: [UInt8] = []
        for _ in 0..<500 {
            let chunk = (0..<next(700)).map { _ in
                counter &+= 1
                return counter
            }
            chunk.withUnsafeBytes { ring.append($0) }
            model += chunk
            let take = next(900)
            if next(2) == 0 {
                out += drain(&ring, upTo: take)
            } else {
                var buffer = [UInt8](repeating: 0, count: take)
                let n = buffer.withUnsafeMutableBytes { ring.read(into: $0) }
                out += buffer[..<n]
            }
            let n = min(take, model.count)
            expected += model[..<n]
            model.removeFirst(n)
            let queued = ring.count
            #expect(queued == model.count)
        }
        out += drain(&ring, upTo: .max)
        expected += model
        #expect(out == expected)
        let empty = ring.isEmpty
        #expect(empty)
    }

    @Test("a queue that fills and drains at one pace keeps its buffer: no growth after the first")
    func steadyStateKeepsStorage() {
        var ring = ByteRing()
        let chunk = [UInt8](repeating: 7, count: 3000)
        chunk.withUnsafeBytes { ring.append($0) }
        chunk.withUnsafeBytes { ring.append($0) }
        let capacity = ring.capacity
        for round in 0..<1000 {
            // A send takes part of the queue, a write adds what was taken: the backlog stays at two chunks.
            let taken = 1000 + round % 2000
            ring.consume(taken)
            chunk[..<taken].withUnsafeBytes { ring.append($0) }
        }
        let kept = ring.capacity
        #expect(kept == capacity)
    }

    @Test("release gives the storage back only when empty")
    func release() {
        var ring = ByteRing()
        [UInt8]([1, 2, 3]).withUnsafeBytes { ring.append($0) }
        ring.release()
        let (count, held) = (ring.count, ring.capacity)
        #expect(count == 3 && held > 0)
        ring.consume(3)
        ring.release()
        let released = ring.capacity
        #expect(released == 0)
    }
}
