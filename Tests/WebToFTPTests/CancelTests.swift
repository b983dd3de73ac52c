import Foundation
import Reactor
import TestSupport
import Testing

@Suite("Cancelling a run")
struct CancelTests {
    @Test("SIGTERM while every source waits on its back-off: the run ends at once, each source failed, exit 143")
    func duringBackoff() async throws {
        try TestEnv.require(.vsftpd)
        let scenario = try Scenario("cancel-backoff")
        let (thread, port) = try await scriptedServer { _, _ in
            [.send("HTTP/1.1 503 Service Unavailable\r\nRetry-After: 30\r\nContent-Length: 0\r\n\r\n")]
        }
        defer { thread.shutdown() }
        try scenario.writeConfig(
            """
            {"a": {"URL": "http://127.0.0.1:\(port)/a.csv"}, "b": {"URL": "http://127.0.0.1:\(port)/b.csv"}}
            """)
        let process = try scenario.start(["manual", "parallel"])
        func waitFor(_ seconds: Double, _ condition: () -> Bool) -> Bool {
            for _ in 0..<Int(seconds * 50) {
                if condition() { return true }
                usleep(20_000)
            }
            return condition()
        }
        let waiting = waitFor(10) {
            scenario.log.components(separatedBy: "retry delay=30000ms").count == 3
        }
        #expect(waiting, "both sources did not reach their back-off: \(scenario.log)")
        process.terminate()  // SIGTERM
        let ended = waitFor(5) { !process.isRunning }
        if !ended { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        #expect(ended, "the run did not end: \(scenario.log)")
        #expect(process.terminationStatus == 143)
        #expect(scenario.log.contains("summary sources=2 succeeded=0 failed=2"), "\(scenario.log)")
        #expect(scenario.log.components(separatedBy: "reason=\"interrupted by SIGTERM\"").count == 5)
    }
}
