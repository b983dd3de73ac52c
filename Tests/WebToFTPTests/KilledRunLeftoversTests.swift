@_spi(Internals) import FTP
import Foundation
@_spi(Internals) import Reactor
@_spi(Internals) import TestSupport
import Testing

@Suite("A killed run's temporary upload goes at the next run's start, not after a day")
struct KilledRunLeftoversTests {
    @Test(
        """
        vsftpd: a -part of this host whose process is gone and unchanged for 20 min is deleted; a fresh one, a live \
        process's, another host's and a backup are kept
        """
    )
    func killedRunCleanedUp() throws {
        try TestEnv.require(.nginxHTTP, .vsftpd)
        let scenario = try Scenario("killed")
        let manager = FileManager.default
        try manager.createDirectory(atPath: scenario.target, withIntermediateDirectories: true)
        let owner = try manager.attributesOfItem(atPath: TestEnv.directory + "/ftp-home")[.ownerAccountID]
        try manager.setAttributes([.ownerAccountID: owner as Any], ofItemAtPath: scenario.target)
        // A process that has ended: its pid is not alive here.
        let ended = Process()
        ended.executableURL = URL(fileURLWithPath: "/bin/true")
        try ended.run()
        ended.waitUntilExit()
        let dead = Int(ended.processIdentifier)
        let host = FTPTemporaryName.hostPart(SystemInfo.hostName)
        let now = Int(Date().timeIntervalSince1970)
        let killed = ".a.csv.web2ftp-part.\(host).\(dead).\(now - 1200)"
        let stillWritten = ".b.csv.web2ftp-part.\(host).\(dead).\(now - 1200)"
        let alive = ".c.csv.web2ftp-part.\(host).\(getpid()).\(now - 1200)"
        let otherHost = ".d.csv.web2ftp-part.\(host)-elsewhere.\(dead).\(now - 1200)"
        let backup = ".e.csv.web2ftp-old.\(host).\(dead).\(now - 1200)"
        let twentyMinutesAgo = Date().addingTimeInterval(-1200)
        for name in [killed, stillWritten, alive, otherHost, backup] {
            let path = scenario.target + "/" + name
            #expect(manager.createFile(atPath: path, contents: Data("x".utf8)))
            if name != stillWritten {
                try manager.setAttributes([.modificationDate: twentyMinutesAgo], ofItemAtPath: path)
            }
        }
        try scenario.writeConfig("{\"a\": {\"URL\": \"\(http)/small.csv\"}}")
        let run = try scenario.run("sequential")
        #expect(run.status == 0, "\(run.error)")
        #expect(
            scenario.files
                == [killed, stillWritten, alive, otherHost, backup, "a.csv"].filter { $0 != killed }.sorted())
        #expect(scenario.log.contains("leftovers directory=\(scenario.target) deleted=1 restored=0"), "\(scenario.log)")
    }
}
