import Foundation
@_spi(Internals) import TestSupport
import Testing
@_spi(Internals) import WebToFTP

@testable import web2ftp

@Suite("--shard K/N: a stable partition of a config's sources, each shard with its own lock and state")
struct ShardTests {
    static let names = (0..<200).map { "source-\($0)" } + ["ä ö", "", "a/b", "日本語", "x y \"z\""]

    @Test("the N shards of a config are disjoint and cover it, for N = 1…16")
    func partition() {
        for count in 1...16 {
            let shards = (0..<count).map { Shard(index: $0, count: count)! }
            for name in Self.names {
                #expect(shards.filter { $0.contains(name) }.count == 1, "\(name) in N=\(count)")
            }
        }
    }

    @Test("a source added to the config moves no other source: the shard is a function of the name and N alone")
    func stable() {
        let grown = Self.names + ["new-source", "another one"]
        for count in 1...16 {
            for k in 0..<count {
                let shard = Shard(index: k, count: count)!
                #expect(grown.filter(shard.contains).filter(Self.names.contains) == Self.names.filter(shard.contains))
            }
        }
        // FNV-1a 64's published test vectors: the documented hash, not a private one.
        #expect(Shard.hash("") == 0xcbf2_9ce4_8422_2325)
        #expect(Shard.hash("a") == 0xaf63_dc4c_8601_ec8c)
        #expect(Shard.hash("foobar") == 0x8594_4171_f739_67e8)
    }

    @Test(
        "K/N and auto/N parse; bad words and an unset JOB_COMPLETION_INDEX are refused",
        arguments: [
            ("0/1", nil, "0/1"), ("3/4", nil, "3/4"), ("auto/4", "2", "2/4"), ("4/4", nil, nil), ("-1/4", nil, nil),
            ("1/0", nil, nil), ("auto/4", nil, nil), ("auto/4", "", nil), ("auto/4", "7", nil), ("1", nil, nil),
            ("a/4", nil, nil), ("1/4/2", nil, nil),
        ] as [(String, String?, String?)])
    func parse(word: String, index: String?, label: String?) {
        switch Shard.parse(word, completionIndex: index) {
        case .success(let shard): #expect(shard.label == label)
        case .failure(let error): #expect(label == nil, "\(error.message)")
        }
    }

    @Test("locks: a shard blocks an unsharded run and the reverse; two different shards hold theirs at once")
    func locks() throws {
        let scratch = try Scratch("shard-locks")
        try scratch.write("config.json", "{}")
        let config = scratch.path("config.json")
        let first = Shard(index: 0, count: 2)!
        let second = Shard(index: 1, count: 2)!
        func take(_ shard: Shard?) -> Result<RunLock, RunLock.Failure> {
            do { return .success(try RunLock(config: config, shard: shard, directory: scratch.directory)) } catch {
                return .failure(error)
            }
        }
        do {
            let zero = try take(first).get()
            let one = try take(second).get()
            guard case .failure(let whole) = take(nil), case .held(_, let holder) = whole else {
                Issue.record("an unsharded run got the lock while shards ran")
                return
            }
            #expect(whole.exitCode == 3)
            #expect(holder.contains("shard"))
            guard case .failure(let again) = take(first), case .held = again else {
                Issue.record("the same shard ran twice")
                return
            }
            withExtendedLifetime((zero, one)) {}
        }
        // All shards gone: the whole config can run, and then no shard can.
        do {
            let whole = try take(nil).get()
            guard case .failure(let shardRefused) = take(first), case .held(_, let holder) = shardRefused else {
                Issue.record("a shard got its lock while an unsharded run ran")
                return
            }
            #expect(shardRefused.exitCode == 3)
            #expect(holder.contains("pid \(getpid())"))
            withExtendedLifetime(whole) {}
        }
        // And once it is over, a shard can.
        _ = try take(second).get()
    }

    @Test("a running shard makes `manual` of the whole config exit 3, and `--shard auto/N` without the index exits 2")
    func cliLock() throws {
        let scratch = try Scratch("shard-cli-lock")
        try scratch.write("config.json", #"{"a": {"URL": "http://127.0.0.1:1/a.csv"}}"#)
        let environment = [
            "FTPHOST": "127.0.0.1:1", "FTPUSER": "u", "FTPPASS": "p", "FTPTARGET": "/t",
            "XDG_RUNTIME_DIR": scratch.directory, "JOB_COMPLETION_INDEX": "",
        ]
        let held = try RunLock(
            config: scratch.path("config.json"), shard: Shard(index: 0, count: 3)!, directory: scratch.directory)
        let whole = try scratch.run(
            ["manual", "sequential", "--config", scratch.path("config.json"), "--log", scratch.path("log")],
            environment: environment)
        #expect(whole.status == 3, "\(whole.error)")
        #expect(whole.error.contains("shard"))
        let same = try scratch.run(
            [
                "manual", "sequential", "--shard", "auto/3", "--config", scratch.path("config.json"), "--log",
                scratch.path("log"),
            ],
            environment: environment.merging(["JOB_COMPLETION_INDEX": "0"]) { $1 })
        #expect(same.status == 3, "\(same.error)")
        withExtendedLifetime(held) {}
        let other = Shard.index(of: "a", count: 3) == 0 ? "1/3" : "0/3"
        let outside = try scratch.run(
            [
                "manual", "sequential", "--shard", other, "--only", "a", "--config", scratch.path("config.json"),
                "--log", scratch.path("log"),
            ],
            environment: environment)
        #expect(outside.status == 2)
        #expect(outside.error.contains("--only: \"a\" is in shard"), "\(outside.error)")
        let unset = try scratch.run(
            [
                "manual", "sequential", "--shard", "auto/3", "--config", scratch.path("config.json"), "--log",
                scratch.path("log"),
            ],
            environment: environment)
        #expect(unset.status == 2)
        #expect(unset.error.contains("JOB_COMPLETION_INDEX"))
    }

    @Test("check --shard K/N lists a shard's sources; check --shards N counts every shard")
    func check() throws {
        let scratch = try Scratch("shard-check")
        let names = (0..<12).map { "s\($0)" }
        try scratch.write(
            "config.json",
            "{" + names.map { "\"\($0)\": {\"URL\": \"http://example.invalid/\($0).csv\"}" }.joined(separator: ",")
                + "}")
        let all = try scratch.run(["check", "--config", scratch.path("config.json"), "--shards", "3"])
        #expect(all.status == 0, "\(all.error)")
        var total = 0
        for k in 0..<3 {
            let expected = names.filter { Shard.index(of: $0, count: 3) == k }
            #expect(all.output.contains("shard \(k)/3: \(expected.count) source"))
            total += expected.count
            let one = try scratch.run(["check", "--config", scratch.path("config.json"), "--shard", "\(k)/3"])
            #expect(one.status == 0)
            let listed = one.output.split(separator: "\n").filter { $0.hasPrefix("  ") }.map { $0.dropFirst(2) }.map(
                String.init)
            #expect(listed == expected)
        }
        #expect(total == names.count)
    }
}
