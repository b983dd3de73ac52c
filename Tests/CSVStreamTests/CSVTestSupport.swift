@_spi(Internals) import CSVStream
import Testing

/// Transforms `input` given in `pieces`; returns the output text or the error's message.
func run(_ pieces: [[UInt8]], _ options: CSVOptions) -> (String, CSVCounters) {
    let transformer = CSVTransformer(options: options)
    var output: [UInt8] = []
    do {
        for piece in pieces {
            try piece.withUnsafeBytes { bytes in try transformer.push(bytes, into: &output) }
        }
        try transformer.finish(into: &output)
    } catch let error as CSVError {
        return ("error: \(error.message)", transformer.counters)
    } catch {
        return ("unexpected: \(error)", transformer.counters)
    }
    return (String(decoding: output, as: UTF8.self), transformer.counters)
}

/// The output for `input`, checked to be the same whole, split once at every byte, and byte by byte.
func transform(_ input: [UInt8], _ options: CSVOptions) -> String {
    let (whole, _) = run([input], options)
    for split in 0...input.count {
        let (result, _) = run([Array(input[..<split]), Array(input[split...])], options)
        #expect(result == whole, "split at \(split) of \(input.count)")
        if result != whole { break }
    }
    #expect(run(input.map { [$0] }, options).0 == whole, "byte by byte")
    return whole
}

func transform(_ input: String, _ params: [String: CSVParam] = [:], output: [String: CSVParam]? = nil) -> String {
    do {
        return transform(Array(input.utf8), try CSVOptions(params: params, output: output))
    } catch {
        return "config: \(error)"
    }
}

func options(_ params: [String: CSVParam]) -> CSVOptions {
    try! CSVOptions(params: params)
}
