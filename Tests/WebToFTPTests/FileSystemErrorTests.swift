import Foundation
@_spi(Internals) import TestSupport
import Testing

@Suite("web2ftp when the file system fails")
struct FileSystemErrorTests {
    @Test("a full log device: the run goes on and publishes, and says so once on stderr")
    func fullLog() throws {
        try TestEnv.require(.nginxHTTP, .vsftpd)
        let scenario = try Scenario("fulllog")
        try scenario.writeConfig("{\"a\": {\"URL\": \"\(http)/small.csv\"}, \"b\": {\"URL\": \"\(http)/small.csv\"}}")
        let run = try scenario.run("sequential", ["--log", "/dev/full"])
        #expect(run.status == 0, "\(run.error)")
        #expect(scenario.files == ["a.csv", "b.csv"])
        let warnings = run.error.split(separator: "\n").filter { $0.contains("log_write_failed") }
        #expect(warnings.count == 1, "\(run.error)")
        #expect(warnings.first?.contains(" WARN log_write_failed path=/dev/full ") == true, "\(run.error)")
        #expect(warnings.first?.contains("ENOSPC") == true)
        #expect(run.error.contains(" summary "), "the events still reach stderr")
    }

    @Test("a runtime directory that cannot hold the lock: exit 2 naming the lock file, no fall-back to /tmp")
    func lockCannotBeCreated() throws {
        let scenario = try Scenario("nolock")
        try scenario.writeConfig("{\"a\": {\"URL\": \"\(http)/small.csv\"}}")
        let environment = scenario.environment.merging(["XDG_RUNTIME_DIR": "/dev/null/x"]) { $1 }
        let run = try scenario.run("sequential", environment: environment)
        #expect(run.status == 2, "\(run.error)")
        #expect(run.error.contains("cannot create the lock file /dev/null/x/web2ftp-"), "\(run.error)")
        #expect(run.error.contains("ENOTDIR"), "\(run.error)")
        #expect(scenario.files.isEmpty)
    }
}
