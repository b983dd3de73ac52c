@_spi(Internals) import Compression
import Foundation
import Testing

/// Runs `python3 -c script` with `input` on stdin and returns its stdout (the oracle: Python's gzip and zipfile).
func python(_ script: String, input: [UInt8] = []) throws -> [UInt8] {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", "-c", script]
    let stdin = Pipe()
    let stdout = Pipe()
    process.standardInput = stdin
    process.standardOutput = stdout
    try process.run()
    let writer = Thread {
        stdin.fileHandleForWriting.write(Data(input))
        try? stdin.fileHandleForWriting.close()
    }
    writer.start()
    let data = stdout.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    #expect(process.terminationStatus == 0, "python3 failed: \(script)")
    return [UInt8](data)
}

func gzipped(_ bytes: [UInt8], level: Int32 = 6) -> [UInt8] {
    let encoder = GzipEncoder(level: level)
    var out: [UInt8] = []
    bytes.withUnsafeBytes { encoder.write($0) { out += $0 } }
    encoder.finish { out += $0 }
    return out
}

/// What the pump made of `input` fed in `chunks` pieces, with `emit` asking to stop every `stopEvery` pieces.
struct PumpRun {
    var output: [UInt8] = []
    var error: CompressionError?
    var largestPiece = 0
    var mostHeld = 0
}

func pumpRun(
    _ input: [UInt8], splits: [Int], stopEvery: Int = 0, make: () throws(CompressionError) -> DecodePump
) -> PumpRun {
    var run = PumpRun()
    do throws(CompressionError) {
        let pump = try make()
        var calls = 0
        let emit: DecodePump.Emit = { piece in
            run.output += piece
            run.largestPiece = max(run.largestPiece, piece.count)
            calls += 1
            return stopEvery == 0 || calls % stopEvery != 0
        }
        var start = 0
        for end in splits + [input.count] where end >= start {
            try withBytesCE(Array(input[start..<end])) { (bytes) throws(CompressionError) in
                if !(try pump.push(bytes, emit: emit)) {
                    while try !pump.resume(emit: emit) {}
                }
            }
            start = end
        }
        while try !pump.finish(emit: emit) {}
    } catch {
        run.error = error
    }
    return run
}

func withBytesCE(_ array: [UInt8], _ body: (UnsafeRawBufferPointer) throws(CompressionError) -> Void)
    throws(CompressionError)
{
    let result: Result<Void, CompressionError> = array.withUnsafeBytes { bytes in
        do throws(CompressionError) { return .success(try body(bytes)) } catch { return .failure(error) }
    }
    try result.get()
}

/// Every split of `count` bytes into two pieces, and into single bytes.
func everySplit(_ count: Int) -> [[Int]] {
    (0...count).map { [$0] } + [Array(1..<max(count, 1))]
}
