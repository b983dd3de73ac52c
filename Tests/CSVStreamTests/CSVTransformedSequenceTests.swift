import CSVStream
import Testing

/// Chunks as an async sequence, failing after them when `failure` is given (a body cut short).
private func chunks(_ pieces: [[UInt8]], failure: (any Error)? = nil) -> AsyncThrowingStream<[UInt8], any Error> {
    AsyncThrowingStream { continuation in
        for piece in pieces { continuation.yield(piece) }
        continuation.finish(throwing: failure)
    }
}

private struct SourceBroke: Error {}

@Suite("CSV transformer over an async sequence")
struct CSVTransformedSequenceTests {
    let options: CSVOptions

    init() throws {
        options = try CSVOptions(params: ["sep": .string(";"), "decimal": .string(",")])
    }

    @Test("the output equals push/finish's, wherever the input is split, and the counters are the transformer's")
    func sameAsPush() async throws {
        let input = Array("a;b\n1;2,5\n\"x;y\";3\n4;5".utf8)
        let expected = run([input], options).0
        #expect(expected == "a,b\n1,2.5\nx;y,3\n4,5\n")
        for split in [1, 3, 7, input.count - 1] {
            let transformer = CSVTransformer(options: options)
            var output: [UInt8] = []
            var elements = 0
            for try await chunk in transformer.transformed(
                chunks([Array(input[..<split]), [], Array(input[split...])]))
            {
                #expect(!chunk.isEmpty)
                output += chunk
                elements += 1
            }
            #expect(String(decoding: output, as: UTF8.self) == expected, "split at \(split)")
            #expect(elements >= 1)
            #expect(transformer.counters.rowsOut == 3)
        }
    }

    @Test("an unterminated quote at the end fails with the CSV error; a failing source with its own error")
    func failures() async throws {
        let transformer = CSVTransformer(options: options)
        await #expect(throws: CSVError.self) {
            for try await _ in transformer.transformed(chunks([Array("a;b\n\"1;2\n".utf8)])) {}
        }
        let second = CSVTransformer(options: options)
        await #expect(throws: SourceBroke.self) {
            for try await _ in second.transformed(chunks([Array("a;b\n1;2\n".utf8)], failure: SourceBroke())) {}
        }
    }
}
