// Extracted from README.md ("Embedding") by scripts/examples.sh: edit the README, not this file.
import WebToFTP

let configText = """
    {"prices": {"URL": "https://example.com/prices.csv", "PARAMS": {"sep": ";"}, "TARGET": "prices-{date:%Y%m%d}.csv"}}
    """
let sources = try ConfigLoader.load(configText, runStart: .now())  // or build [SourceConfig] yourself
let ftp = try FTPEnvironment.load(["FTPHOST": "ftp.example.com", "FTPUSER": "u", "FTPPASS": "p", "FTPTARGET": "/in"])
var options = RunOptions()
options.mode = .parallel
let summary = try await Web2FTP.run(sources: sources, ftp: ftp, options: options, logPath: "etl_pipeline.log")
print(summary.succeeded.count, summary.failed.count, summary.bytesUploaded)
