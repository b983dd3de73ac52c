@_spi(Internals) import HTTP1
import Testing

@_spi(Internals) @testable import WebToFTP

/// Issue #18 part 2, the pure parts: the fingerprint, the state file's text, the merge after a run, the decisions.
@Suite("sync state: fingerprint, merge, decisions")
struct SyncStateTests {
    static func record(_ fingerprint: String = "f", bytes: UInt64 = 8, sha: String = "s") -> PublishedRecord {
        PublishedRecord(
            fingerprint: fingerprint, etag: "\"e\"", lastModified: "Tue, 01 Dec 2026 20:49:40 GMT",
            url: "http://h/a.csv", path: "/t/a.csv", bytes: bytes, sha256: sha)
    }

    static func fingerprint(
        url: String = "http://h/a.csv", settings: String = "", target: String = "/t/a.csv", host: String = "h",
        port: String = "21", user: String = "u", ftpTarget: String = "/t", headers: [(String, String)] = []
    ) throws -> String {
        var fields = HTTPHeaders()
        for (name, value) in headers { fields.add(name, value) }
        return SyncState.fingerprint(
            url: try HTTPURL(url), settings: settings, targetPath: target, ftpHost: host, ftpPort: port,
            ftpUser: user, ftpTarget: ftpTarget, headers: fields)
    }

    @Test("each input changes the fingerprint; the same inputs give the same one")
    func fingerprints() throws {
        let base = try Self.fingerprint()
        #expect(try Self.fingerprint() == base)
        let others = [
            try Self.fingerprint(url: "http://h/b.csv"), try Self.fingerprint(settings: "PARAMS={\"sep\":\";\"}"),
            try Self.fingerprint(target: "/t/a-20261202.csv"), try Self.fingerprint(host: "g"),
            try Self.fingerprint(port: "2121"), try Self.fingerprint(user: "v"), try Self.fingerprint(ftpTarget: "/u"),
            try Self.fingerprint(headers: [("Authorization", "Bearer x")]),
        ]
        #expect(Set(others + [base]).count == others.count + 1)
        #expect(!base.contains("h/a.csv"))
    }

    @Test("the state file's text reads back; anything else is corrupt")
    func roundTrip() {
        var state = SyncState()
        state.sources["a"] = Self.record()
        var other = Self.record("g", bytes: 0, sha: "t")
        other.etag = nil
        other.lastModified = nil
        state.sources["b \"quoted\""] = other
        #expect(SyncState.parse(state.json) == state)
        for corrupt in [
            "", "{", "[]", "{\"version\":2,\"sources\":{}}", "{\"version\":1,\"sources\":{\"a\":{}}}",
            "{\"version\":1,\"sources\":{\"a\":{\"fingerprint\":\"f\",\"url\":\"u\",\"path\":\"p\",\"bytes\":-1,\"sha256\":\"s\"}}}",
        ] {
            #expect(SyncState.parse(corrupt) == nil, "\(corrupt)")
        }
        #expect(SyncState.parse("{\"version\":1,\"sources\":{}}") == SyncState())
    }

    @Test("after a run: new records replace, failures and sources not run keep theirs, removed sources go")
    func merge() {
        var previous = SyncState()
        previous.sources = [
            "ran": Self.record("old"), "failed": Self.record("kept"), "notRun": Self.record("n"),
            "removed": Self.record("r"),
        ]
        let next = SyncState.merged(
            previous, configNames: ["ran", "failed", "notRun", "new"],
            updates: ["ran": Self.record("new"), "new": Self.record("fresh")])
        #expect(
            next.sources.mapValues(\.fingerprint) == ["ran": "new", "failed": "kept", "notRun": "n", "new": "fresh"])
    }

    @Test(
        "304 × published size, 200 × size × SHA-256",
        arguments: [
            (304, UInt64?.some(8), "s", SyncDecision.unchanged(reason: "not-modified")),
            (304, nil, "s", .downloadAgain), (304, 9, "s", .downloadAgain),
            (200, 8, "s", .unchanged(reason: "identical")), (200, 8, "x", .publish), (200, nil, "s", .publish),
            (200, 9, "s", .publish), (200, nil, "x", .publish),
        ] as [(Int, UInt64?, String, SyncDecision)])
    func decisions(status: Int, size: UInt64?, sha: String, expected: SyncDecision) {
        let recorded = Self.record(bytes: 8, sha: "s")
        let decision =
            status == 304
            ? SyncDecision.afterNotModified(recorded: recorded, publishedSize: size)
            : SyncDecision.afterDownload(recorded: recorded, sha256: sha, publishedSize: size)
        #expect(decision == expected)
    }
}
