import Foundation
import Glibc
@_spi(Internals) import Reactor
import Testing

@_spi(Internals) @testable import WebToFTP

@Suite("The run log when its file fails")
struct RunLogFaultTests {
    @Test("a log file that stops taking lines is reported once, the events go on, and it recovers")
    func writeFailureReportedOnce() throws {
        let path = NSTemporaryDirectory() + "w2f-runlog-\(UInt32.random(in: 0...UInt32.max)).log"
        defer {
            FileFaults.clear(path: path)
            unlink(path)
        }
        let log = try RunLog(path: path, secrets: [])
        log.echoToStderr = false
        var reported: [FileError] = []
        log.onWriteFailure = { reported.append($0) }
        log.event(.info, source: nil, "first")
        FileFaults.failNext(.write, path: path, errno: ENOSPC, count: 3)
        for index in 0..<3 { log.event(.info, source: "s", "lost", [("n", "\(index)")]) }
        log.event(.info, source: nil, "after")
        #expect(reported.map(\.errno) == [ENOSPC])
        #expect(reported.first?.path == path)
        let text = String(decoding: try File.contents(of: path, limit: 1 << 20), as: UTF8.self)
        #expect(text.contains(" first") && text.contains(" after") && !text.contains(" lost"))
    }
}
