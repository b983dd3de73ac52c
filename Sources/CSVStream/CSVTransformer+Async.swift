extension CSVTransformer {
    /// The transform over a sequence of chunks (an HTTP body, a file read in pieces): each element is what one or more
    /// input chunks gave (never an empty chunk), the last one includes what `finish` flushes. Fails with `CSVError`,
    /// or with what `input` fails with. Single-pass: it drives this transformer, whose `counters` and `warnings` tell
    /// the story afterwards.
    /// The sequence's type is opaque: its name and the operators every `AsyncSequence` gets are not surface of ours.
    public func transformed<Input: AsyncSequence>(_ input: Input) -> some AsyncSequence<[UInt8], any Error>
    where Input.Element == [UInt8] {
        CSVTransformedSequence(transformer: self, input: input)
    }
}

/// See `CSVTransformer.transformed(_:)`.
@_spi(Internals) public struct CSVTransformedSequence<Input: AsyncSequence>: AsyncSequence
where Input.Element == [UInt8] {
    public typealias Element = [UInt8]

    let transformer: CSVTransformer
    let input: Input

    public func makeAsyncIterator() -> Iterator {
        precondition(!transformer.drivenBySequence, "a CSVTransformer can drive one transformed sequence only")
        transformer.drivenBySequence = true
        return Iterator(transformer: transformer, input: input.makeAsyncIterator())
    }

    public struct Iterator: AsyncIteratorProtocol {
        public typealias Element = [UInt8]

        let transformer: CSVTransformer
        var input: Input.AsyncIterator
        var finished = false

        public mutating func next() async throws -> [UInt8]? {
            try await next(isolation: nil)
        }

        public mutating func next(isolation actor: isolated (any Actor)?) async throws -> [UInt8]? {
            var output: [UInt8] = []
            while !finished {
                if let chunk = try await input.next(isolation: actor) {
                    try push(chunk, into: &output)
                } else {
                    finished = true
                    try transformer.finish(into: &output)
                }
                if !output.isEmpty { return output }
            }
            return nil
        }

        private func push(_ chunk: [UInt8], into output: inout [UInt8]) throws(CSVError) {
            let transformer = transformer
            var result: Result<Void, CSVError> = .success(())
            chunk.withUnsafeBytes { bytes in
                do throws(CSVError) {
                    try transformer.push(bytes, into: &output)
                } catch {
                    result = .failure(error)
                }
            }
            try result.get()
        }
    }
}
