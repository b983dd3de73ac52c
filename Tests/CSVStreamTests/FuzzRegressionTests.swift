@_spi(Internals) import CSVStream
import Testing

/// Inputs the fuzzer (Fuzz/, scripts/fuzz.sh) found, kept as regression tests.
@Suite("CSV: fuzzer findings")
struct CSVFuzzRegressionTests {
    @Test("a bad row before an invalid byte: the first error in the input wins, however the input is split")
    func invalidByteAfterRows() {
        // (Found with usecols [0]; since usecols ignores a longer row's extra fields, as pandas does, the bad row
        // needs a plain read to stay bad.)
        let options = try! CSVOptions(params: ["comment": .string("#"), "escapechar": .string("\\"), "header": .null])
        let result = transform([0x00, 0x0A, 0x2C, 0x0A, 0x84], options)
        #expect(result == "error: expected 1 fields, saw 2 at row 2")
    }
}
