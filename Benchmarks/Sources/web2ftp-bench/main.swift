// web2ftp-bench: data generation, micro-benchmarks, the CSV transform on its own, and the comparison with curl, lftp,
// mlr and Python on the same loopback servers. scripts/bench.sh is the way in; see its header for the budget.
import Foundation

let arguments = Array(CommandLine.arguments.dropFirst())
let usage = """
    usage: web2ftp-bench gen DIR [--quick]                   write the benchmark data (deterministic)
           web2ftp-bench micro [CASE] [--mib N] [--repeat N]   hot-path micro-benchmarks (MB/s)
           web2ftp-bench csv FILE MODE                        our CSV transform of FILE to nothing (MODE: passthrough,
                                                              redelimit, date, short), MB/s on one core
           web2ftp-bench compare [--quick] [--runs N] [--markdown FILE] [--only CASE]
                                                              the contenders on the servers of scripts/test-servers.sh
    """

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("web2ftp-bench: \(message)\n".utf8))
    exit(2)
}

/// Progress lines, written at once even into a file or pipe (print buffers there): the full run takes half an hour.
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

func option(_ name: String) -> String? {
    guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count else { return nil }
    return arguments[index + 1]
}

switch arguments.first {
case "gen":
    guard arguments.count >= 2 else { fail(usage) }
    try DataSet.generate(into: arguments[1], quick: arguments.contains("--quick"))
case "micro":
    let name = arguments.dropFirst().first { !$0.hasPrefix("--") && Int($0) == nil }
    Micro.run(
        only: name, mebibytes: option("--mib").flatMap(Int.init) ?? 64,
        repeats: option("--repeat").flatMap(Int.init) ?? 5)
case "csv":
    guard arguments.count >= 3 else { fail(usage) }
    try CSVRun.run(path: arguments[1], mode: arguments[2])
case "compare":
    var settings = Compare.Settings(quick: arguments.contains("--quick"))
    if let runs = option("--runs").flatMap(Int.init) { settings.runs = runs }
    settings.markdownPath = option("--markdown")
    settings.only = option("--only")
    var compare = Compare(settings: settings)
    try compare.run()
default:
    print(usage)
    exit(arguments.isEmpty ? 2 : 0)
}
