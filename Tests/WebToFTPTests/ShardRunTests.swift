import Foundation
@_spi(Internals) import TestSupport
import Testing
@_spi(Internals) import WebToFTP

@Suite("--shard K/N end to end: each shard publishes its own sources and says so")
struct ShardRunTests {
    @Test("two shards of one config publish disjoint sources that cover it, each with its own state file")
    func twoShards() throws {
        let scenario = try Scenario("shards")
        let names = ["alpha", "beta", "gamma", "delta", "epsilon"]
        try scenario.writeConfig(
            "{"
                + names.map { "\"\($0)\": {\"URL\": \"\(http)/small.csv\"}" }
                .joined(separator: ",") + "}")
        let home = freshStateHome()
        let environment = scenario.environment.merging(["XDG_STATE_HOME": home]) { $1 }
        var published: [String] = []
        for k in 0..<2 {
            let run = try scenario.run("sequential", ["--shard", "\(k)/2"], environment: environment)
            #expect(run.status == 0, "\(run.error)")
            let expected = names.filter { Shard.index(of: $0, count: 2) == k }
            let summary = try String(contentsOfFile: scenario.directory + "/summary.json", encoding: .utf8)
            let object = try JSONSerialization.jsonObject(with: Data(summary.utf8)) as? [String: Any]
            #expect(object?["shard"] as? String == "\(k)/2")
            #expect(object?["sources_total"] as? Int == expected.count)
            #expect(run.error.contains("summary shard=\(k)/2"), "\(run.error)")
            published = scenario.files
            #expect(expected.allSatisfy { published.contains("\($0).csv") })
        }
        #expect(Set(published) == Set(names.map { "\($0).csv" }))
        let states = try FileManager.default.contentsOfDirectory(atPath: home + "/web2ftp").sorted()
        #expect(states.count == 2)
        #expect(states.allSatisfy { $0.hasSuffix(".0-of-2.json") || $0.hasSuffix(".1-of-2.json") }, "\(states)")
    }
}
