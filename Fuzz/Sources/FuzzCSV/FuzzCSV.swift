@_spi(Internals) import WebToFTP

/// The CSV transformer under a few option sets chosen by the first byte: same output however the input is split —
/// whole, in two, and byte by byte (every record then crosses a chunk and takes the tokenizer's byte loop instead of
/// its record scan) — never a crash.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard bytes.count > 1 else { return 0 }
    let choices: [[String: CSVParam]] = [
        ["sep": .string(",")],
        ["sep": .string(";"), "encoding": .string("latin-1"), "decimal": .string(","), "thousands": .string(".")],
        ["encoding": .string("utf-16"), "parse_dates": .array([.integer(0)])],
        ["encoding": .string("cp1252"), "encoding_errors": .string("replace"), "skipfooter": .integer(1)],
        ["comment": .string("#"), "escapechar": .string("\\"), "usecols": .array([.integer(0)]), "header": .null],
        ["names": .array([.string("a"), .string("b")]), "on_bad_lines": .string("skip"), "nrows": .integer(5)],
        ["sep": .string(";"), "quotechar": .string("'")],
        ["sep": .string("\\t"), "escapechar": .string("\\"), "encoding": .string("latin-1")],
        [
            "header": .null, "usecols": .array([.integer(0), .integer(2)]),
            "names": .array([.string("x"), .string("y")]),
            "parse_dates": .array([.integer(1)]), "dayfirst": .bool(true),
        ],
    ]
    let choice = Int(bytes[0]) % (choices.count + 1)
    let options =
        choice < choices.count
        ? try! CSVOptions(params: choices[choice]) : try! CSVOptions(params: [:], output: ["sep": .string(";")])
    let input = Array(bytes[1...])
    let split = Int(bytes[0] >> 3) % (input.count + 1)
    let whole = run(options, [input[...]])
    precondition(whole == run(options, [input[..<split], input[split...]]), "split changed the output")
    if input.count <= 4096 {
        precondition(whole == run(options, input.indices.map { input[$0...$0] }), "byte by byte changed the output")
    }
    return 0
}

func run(_ options: CSVOptions, _ pieces: [ArraySlice<UInt8>]) -> String {
    let transformer = CSVTransformer(options: options)
    var output: [UInt8] = []
    do {
        for piece in pieces {
            try Array(piece).withUnsafeBytes { try transformer.push($0, into: &output) }
        }
        try transformer.finish(into: &output)
    } catch let error as CSVError {
        return "error \(error.kind)"
    } catch {
        return "other"
    }
    return String(decoding: output, as: UTF8.self)
}
