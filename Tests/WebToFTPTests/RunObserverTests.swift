import Foundation
@_spi(Internals) import Reactor
@_spi(Internals) import TestSupport
import Testing
@_spi(Internals) import WebToFTP

@Suite("The run's events, for an observer")
struct RunObserverTests {
    @Test("every log line is one event the observer heard, on one thread not the caller's; fields are typed")
    func fileIsOneObserver() async throws {
        try TestEnv.require(.nginxHTTP, .vsftpd)
        let scenario = try Scenario("lib-observer")
        let (sources, ftp, options) = try scenario.libraryRun(
            "{\"obs\": {\"URL\": \"\(http)/small.csv\", \"PARAMS\": {\"usecols\": [\"id\"]}}}")
        let heard = LockedValue<[(event: RunEvent, thread: pthread_t)]>([])
        let logPath = scenario.directory + "/lib.log"
        let caller = pthread_self()
        let summary = try await Web2FTP.run(
            sources: sources, ftp: ftp, options: options, logPath: logPath,
            observer: { event in heard.withLock { $0.append((event, pthread_self())) } })
        #expect(summary.succeeded.count == 1)
        let events = heard.withLock { $0 }
        let file = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        #expect(events.map { $0.event.line + "\n" }.joined() == file)
        #expect(Set(events.map { UInt($0.thread) }).count == 1)
        #expect(events.first.map { pthread_equal($0.thread, caller) == 0 } ?? false)
        let names = events.map(\.event.name)
        #expect(names.first == "run" && names.contains("start") && names.contains("attempt 1/3"), "\(names)")
        let published = events.first { $0.event.name == "published" }?.event
        #expect(published?.source == "obs")
        #expect(published?["rows"] == .integer(3))
        #expect(published?["http_status"] == .integer(200))
        #expect(published?["path"] == .text(ftp.targetDirectory + "/obs.csv"))
        let last = events.last?.event
        #expect(last?.name == "summary" && last?.level == .info && last?["succeeded"] == .integer(1))
        // The password never reaches an observer.
        #expect(!events.contains { $0.event.line.contains(ftp.password) })
    }

    @Test("without logPath no log file is written, and the observer still hears the run")
    func noFileByDefault() async throws {
        try TestEnv.require(.nginxHTTP, .vsftpd)
        let scenario = try Scenario("lib-nofile")
        let (sources, ftp, options) = try scenario.libraryRun("{\"nofile\": {\"URL\": \"\(http)/small.csv\"}}")
        let names = LockedValue<[String]>([])
        // The old default was etl_pipeline.log in the working directory.
        let oldDefault = FileManager.default.currentDirectoryPath + "/etl_pipeline.log"
        let size = { (try? FileManager.default.attributesOfItem(atPath: oldDefault)[.size] as? Int) ?? nil }
        let before = size()
        _ = try await Web2FTP.run(
            sources: sources, ftp: ftp, options: options,
            observer: { event in names.withLock { $0.append(event.name) } })
        #expect(size() == before)
        #expect(names.withLock { $0.contains("published") && $0.last == "summary" })
    }
}
