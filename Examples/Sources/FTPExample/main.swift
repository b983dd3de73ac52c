// The FTP client alone: publishes a few bytes under a name (through a temporary name, renamed when complete).
// usage: FTPHOST=host[:port] FTPUSER=u FTPPASS=p FTPTARGET=/dir [FTPTLS=explicit|implicit|none] FTPExample NAME
import ExampleSupport
import Glibc
import WebToFTP

final class Publisher: FTPUploadDelegate {
    let loop: WebToFTP.EventLoop
    let bytes: [UInt8]
    var outcome: Result<FTPPublishResult, FTPError>?

    init(loop: WebToFTP.EventLoop, bytes: [UInt8]) {
        self.loop = loop
        self.bytes = bytes
    }

    func uploadCanBegin(_ upload: FTPUpload) {
        // Small enough to write at once; a large source writes while `isWritable` and waits for
        // `uploadDidBecomeWritable`.
        bytes.withUnsafeBytes { upload.write($0) }
        upload.finishWriting()
    }

    func uploadDidBecomeWritable(_ upload: FTPUpload) {}

    func upload(_ upload: FTPUpload, didFinish result: Result<FTPPublishResult, FTPError>) {
        outcome = result
        loop.stop()
    }
}

func environment() -> [String: String] {
    var values: [String: String] = [:]
    for name in ["FTPHOST", "FTPUSER", "FTPPASS", "FTPTARGET", "FTPTLS"] {
        if let value = getenv(name) { values[name] = String(cString: value) }
    }
    return values
}

guard CommandLine.arguments.count == 2 else {
    printError("usage: FTPExample NAME (the server in FTPHOST, FTPUSER, FTPPASS, FTPTARGET, FTPTLS)\n")
    exit(2)
}
do {
    // The same variables and checks as the CLI's; every problem at once.
    let ftp = try FTPEnvironment.load(environment())
    var configuration = FTPSession.Configuration(host: ftp.host, port: ftp.port, user: ftp.user, password: ftp.password)
    configuration.security = ftp.security
    let loop = try WebToFTP.EventLoop()
    let publisher = Publisher(loop: loop, bytes: Array("a,b\n1,2\n".utf8))
    var session: FTPSession?
    FTPSession.connect(loop: loop, configuration: configuration) { result in
        switch result {
        case .success(let connected):
            session = connected
            let plan = FTPPublishPlan.make(
                directory: ftp.targetDirectory, finalName: CommandLine.arguments[1], host: "example",
                processID: Int(getpid()), unixTime: Int64(time(nil)), checkSize: true)
            _ = connected.upload(plan: plan, delegate: publisher)  // the session holds it until it ends
        case .failure(let error):
            publisher.outcome = .failure(error)
            loop.stop()
        }
    }
    try loop.run()
    session?.close()
    loop.close()
    switch publisher.outcome {
    case .success(let published): print("published \(published.path), \(published.bytes) bytes")
    case .failure(let error):
        printError("FTPExample: \(error)\n")
        exit(1)
    case nil: exit(1)
    }
} catch {
    printError("FTPExample: \(error)\n")
    exit(1)
}
