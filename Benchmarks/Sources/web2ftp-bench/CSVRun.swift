@_spi(Internals) import CSVStream
import Foundation

/// Our CSV transform of a local file, output discarded: the transform's own speed on one core, for comparison with
/// mlr and Python's csv module on the same file and the same work.
enum CSVRun {
    static let modes: [String: [String: CSVParam]] = [
        "passthrough": [:],
        "redelimit": ["sep": .string(";"), "encoding": .string("latin-1")],
        "short": ["sep": .string(";"), "encoding": .string("latin-1")],
        "date": [
            "sep": .string(";"), "encoding": .string("latin-1"), "parse_dates": .array([.string("Datum")]),
            "dayfirst": .bool(true),
        ],
    ]

    static func run(path: String, mode: String) throws {
        guard let params = modes[mode] else { fail("unknown mode \(mode); known: \(modes.keys.sorted())") }
        // Passthrough (default PARAMS, a UTF-8 file): parse and rewrite, nothing changed.
        let transformer = CSVTransformer(options: try CSVOptions(params: params))
        guard let handle = FileHandle(forReadingAtPath: path) else { fail("cannot read \(path)") }
        var out: [UInt8] = []
        out.reserveCapacity(1 << 20)
        var bytes = 0
        let start = DispatchTime.now().uptimeNanoseconds
        while let data = try handle.read(upToCount: 256 * 1024), !data.isEmpty {
            bytes += data.count
            out.removeAll(keepingCapacity: true)
            try data.withUnsafeBytes { try transformer.push($0, into: &out) }
        }
        try transformer.finish(into: &out)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        print(
            String(
                format: "%.1f MB/s (%d bytes in %.3f s, %d rows)", Double(bytes) / seconds / 1e6, bytes, seconds,
                transformer.counters.rowsOut))
    }
}
