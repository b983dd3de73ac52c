// The whole pipeline, as `web2ftp manual` runs it: the sources of a config file, to the FTP server of the
// environment; prints the summary. The log goes to pipeline-example.log.
// usage: FTPHOST=… FTPUSER=… FTPPASS=… FTPTARGET=… PipelineExample CONFIG.json
import ExampleSupport
import Glibc
import WebToFTP

func readFile(_ path: String) -> String? {
    guard let file = fopen(path, "r") else { return nil }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 64 * 1024)
    while true {
        let count = buffer.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
        if count == 0 { break }
        bytes += buffer[..<count]
    }
    return String(decoding: bytes, as: UTF8.self)
}

func environment() -> [String: String] {
    var values: [String: String] = [:]
    for name in ["FTPHOST", "FTPUSER", "FTPPASS", "FTPTARGET", "FTPTLS"] {
        if let value = getenv(name) { values[name] = String(cString: value) }
    }
    return values
}

guard CommandLine.arguments.count == 2, let configText = readFile(CommandLine.arguments[1]) else {
    printError("usage: PipelineExample CONFIG.json (the FTP server in FTPHOST, FTPUSER, FTPPASS, FTPTARGET)\n")
    exit(2)
}
do {
    // Both loaders list every problem at once (ConfigError.problems).
    let sources = try ConfigLoader.load(configText, runStart: .now())
    let ftp = try FTPEnvironment.load(environment())
    var options = RunOptions()
    options.mode = .parallel
    options.workers = 2
    let summary = try await Web2FTP.run(sources: sources, ftp: ftp, options: options, logPath: "pipeline-example.log")
    for outcome in summary.outcomes {
        switch outcome.result {
        case .success(let result): print("\(outcome.name): \(result.path), \(result.bytesOut) bytes")
        case .failure(let failure): print("\(outcome.name): failed after \(outcome.attempts) attempts: \(failure)")
        }
    }
    print("\(summary.succeeded.count) published, \(summary.failed.count) failed in \(summary.wallMS) ms")
    exit(summary.failed.isEmpty ? 0 : 1)
} catch {
    printError("PipelineExample: \(error)\n")
    exit(1)
}
