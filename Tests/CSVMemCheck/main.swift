// Streams a generated CSV of the given size through the CSV transformer (re-delimit, latin-1 decode, a date column,
// decimal/thousands) and reports throughput and the process's peak resident memory (VmHWM), which must stay flat
// whatever the size: `web2ftp-csvmemcheck MiB [limit-MiB]` exits 1 when the peak exceeds the limit.
@_spi(Internals) import CSVStream
import Glibc

func peakResidentKiB() -> Int {
    guard let file = fopen("/proc/self/status", "r") else { return -1 }
    defer { fclose(file) }
    var line = [CChar](repeating: 0, count: 256)
    while fgets(&line, Int32(line.count), file) != nil {
        let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        if text.hasPrefix("VmHWM:") {
            return Int(text.split(separator: " ").dropFirst().first ?? "") ?? -1
        }
    }
    return -1
}

let arguments = CommandLine.arguments
let mebibytes = arguments.count > 1 ? Int(arguments[1]) ?? 1024 : 1024
let limitMiB = arguments.count > 2 ? Int(arguments[2]) ?? 64 : 64
let options = try! CSVOptions(params: [
    "sep": .string(";"), "encoding": .string("latin-1"), "parse_dates": .array([.string("day")]),
    "decimal": .string(","), "thousands": .string("."),
])
let transformer = CSVTransformer(options: options)
var chunk: [UInt8] = Array("id;name;day;amount\n".utf8)
var row = 0
var output: [UInt8] = []
output.reserveCapacity(1 << 20)
let total = mebibytes << 20
var fed = 0
var start = timespec()
clock_gettime(CLOCK_MONOTONIC, &start)
while fed < total {
    while chunk.count < 64 * 1024 {
        row += 1
        chunk += Array(
            "\(row);M\u{fc}ller \(row % 97);\(1 + row % 28).0\(1 + row % 9).2024;1.\(100 + row % 900),\(row % 100)\n"
                .utf8)
    }
    chunk.withUnsafeBytes { try! transformer.push($0, into: &output) }
    fed += chunk.count
    chunk.removeAll(keepingCapacity: true)
    output.removeAll(keepingCapacity: true)
}
try! transformer.finish(into: &output)
var stop = timespec()
clock_gettime(CLOCK_MONOTONIC, &stop)
let seconds = Double(stop.tv_sec - start.tv_sec) + Double(stop.tv_nsec - start.tv_nsec) / 1e9
let peak = peakResidentKiB()
print(
    "input \(fed >> 20) MiB, rows \(transformer.counters.rowsOut), \(Int(Double(fed) / seconds / 1e6)) MB/s, "
        + "peak RSS \(peak / 1024) MiB, dates unparsed \(transformer.counters.datesUnparsed)"
)
exit(peak / 1024 <= limitMiB && transformer.counters.datesUnparsed == 0 ? 0 : 1)
