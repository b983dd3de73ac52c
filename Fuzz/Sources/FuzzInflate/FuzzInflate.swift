@_spi(Internals) import Compression

/// The inflate path: gzip, ZIP and deflate decoders behind the pump, on arbitrary bytes. No crash, no hang; the same
/// result (bytes, or the kind of error) whether the input comes whole or split where the first byte says, and
/// whether the consumer takes every piece or stops after each one.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    guard size > 0 else { return 0 }
    let control = data[0]
    let input = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    let kinds: [(codings: [String], file: CompressionMethod?, inferred: Bool, through: Bool)] = [
        ([], .gzip, false, false), ([], .zip(member: nil), false, false), (["deflate"], nil, false, false),
        (["gzip"], .gzip, true, false), ([], .gzip, true, true), ([], .zip(member: "a.csv"), false, false),
    ]
    let kind = kinds[Int(control & 0x7) % kinds.count]
    let split = input.isEmpty ? 0 : Int(control >> 3) * 37 % (input.count + 1)
    func run(splitAt: Int?, stopping: Bool) -> ([UInt8], CompressionError.Kind?) {
        var out: [UInt8] = []
        var calls = 0
        let emit: DecodePump.Emit = { piece in
            precondition(piece.count <= 64 * 1024, "a piece larger than the pump's buffer")
            out += piece
            calls += 1
            return !stopping || calls % 2 == 0
        }
        do throws(CompressionError) {
            // 1 MiB of output is enough to explore; a bomb in the corpus must not make a run slow.
            let pump = try DecodePump(
                contentCodings: kind.codings, file: kind.file, inferred: kind.inferred, passFileThrough: kind.through,
                maxBytes: 1 << 20)
            let pieces = splitAt.map { [Array(input[..<$0]), Array(input[$0...])] } ?? [input]
            for piece in pieces {
                let result: Result<Void, CompressionError> = piece.withUnsafeBytes { bytes in
                    do throws(CompressionError) {
                        if try !pump.push(bytes, emit: emit) {
                            while try !pump.resume(emit: emit) {}
                        }
                        return .success(())
                    } catch {
                        return .failure(error)
                    }
                }
                try result.get()
            }
            while try !pump.finish(emit: emit) {}
            return (out, nil)
        } catch {
            return (out, error.kind)
        }
    }
    let whole = run(splitAt: nil, stopping: false)
    let split2 = run(splitAt: split, stopping: true)
    precondition(whole.1 == split2.1, "split at \(split): \(String(describing: whole.1)) vs \(String(describing: split2.1))")
    if whole.1 == nil { precondition(whole.0 == split2.0, "split at \(split) changed the output") }
    return 0
}
