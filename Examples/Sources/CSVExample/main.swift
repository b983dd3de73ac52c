// The CSV transform alone: reads CSV on stdin, writes the transformed CSV on stdout.
// usage: CSVExample < in.csv > out.csv
import CSVStream
import ExampleSupport
import Glibc

// The same options a config's PARAMS give (pandas read_csv names): ';'-separated, ',' decimals, day-first dates.
let options = try CSVOptions(params: [
    "sep": .string(";"), "decimal": .string(","), "parse_dates": .array([.integer(0)]), "dayfirst": .bool(true),
])
let transformer = CSVTransformer(options: options)
var input = [UInt8](repeating: 0, count: 64 * 1024)
var output: [UInt8] = []

func flush(_ bytes: inout [UInt8]) {
    bytes.withUnsafeBytes { writeAll($0, to: 1) }
    bytes.removeAll(keepingCapacity: true)
}

do {
    while true {
        let count = input.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
        guard count > 0 else { break }
        // Any split of the input gives the same output: push whatever read returned.
        try input.withUnsafeBytes {
            try transformer.push(UnsafeRawBufferPointer(rebasing: $0[..<count]), into: &output)
        }
        flush(&output)
    }
    try transformer.finish(into: &output)
    flush(&output)
    printError("rows in \(transformer.counters.rowsIn), out \(transformer.counters.rowsOut)\n")
} catch {
    // Every problem of the input at once, with its row.
    printError("CSVExample: \(error)\n")
    exit(1)
}
