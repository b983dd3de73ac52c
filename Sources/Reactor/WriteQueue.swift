/// Bytes waiting for the kernel to take them, in order. Only what a send could not take is copied in here.
struct WriteQueue {
    private var chunks: [[UInt8]] = []
    private var head = 0
    /// How much of `chunks[head]` has already been sent.
    private var offset = 0
    private(set) var count = 0

    var isEmpty: Bool { count == 0 }

    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        guard !bytes.isEmpty else { return }
        chunks.append(Array(bytes))
        count += bytes.count
    }

    /// Offers the queued bytes to `send` in order, until it takes less than offered or returns nil (the kernel would
    /// block); what is left stays queued for the next call.
    mutating func flush(_ send: (UnsafeRawBufferPointer) throws(ReactorError) -> Int?) throws(ReactorError) {
        while head < chunks.count {
            let start = offset
            // withUnsafeBytes rethrows untyped errors, so the typed error travels out as a value.
            let outcome: Result<Int?, ReactorError> = chunks[head].withUnsafeBytes { all in
                do throws(ReactorError) {
                    return .success(try send(UnsafeRawBufferPointer(rebasing: all[start...])))
                } catch {
                    return .failure(error)
                }
            }
            let sent = try outcome.get()
            guard let sent else { return }
            count -= sent
            offset += sent
            if offset < chunks[head].count { return }
            chunks[head] = []
            head += 1
            offset = 0
        }
        chunks.removeAll(keepingCapacity: true)
        head = 0
    }

    mutating func removeAll() {
        chunks.removeAll()
        head = 0
        offset = 0
        count = 0
    }
}
