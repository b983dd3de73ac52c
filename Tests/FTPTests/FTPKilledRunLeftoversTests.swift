@_spi(Internals) import FTP
import Testing

@Suite("Leftovers of a killed run of this host go at the next run's start")
struct FTPKilledRunLeftoversTests {
    static let now: Int64 = 1_000_000
    static let day: Int64 = 86_400
    static let deadPID = 4242
    static let here = FTPLeftovers.Here(host: "db1.example", isAlive: { $0 != deadPID })

    struct Case: CustomTestStringConvertible, Sendable {
        let label: String
        let name: String
        /// Seconds since the server last saw it change, as MDTM gives it; nil: the server gave no time.
        let unchangedFor: Int64?
        let deleted: Bool
        var testDescription: String { label }
    }

    static func part(_ host: String = "db1.example", pid: Int = deadPID, made: Int64 = now - 1200) -> String {
        ".a.csv.web2ftp-part.\(host).\(pid).\(made)"
    }

    static let cases: [Case] = [
        Case(
            label: "this host, process gone, unchanged 20 min: deleted", name: part(), unchangedFor: 1200, deleted: true
        ),
        Case(label: "unchanged exactly 10 min: deleted", name: part(), unchangedFor: 600, deleted: true),
        Case(
            label: "changed 5 min ago: kept (a run may still write it)", name: part(), unchangedFor: 300, deleted: false
        ),
        Case(label: "no modification time from the server: kept", name: part(), unchangedFor: nil, deleted: false),
        Case(
            label: "process alive here: kept", name: part(pid: 7), unchangedFor: 3600, deleted: false),
        Case(
            label: "another host: kept until the day is out", name: part("db2.example"), unchangedFor: 3600,
            deleted: false),
        Case(
            label: "a backup of a killed run: kept (the day's rule)",
            name: ".a.csv.web2ftp-old.db1.example.\(deadPID).\(now - 1200)", unchangedFor: 3600, deleted: false),
        Case(
            label: "stale by its name's time: deleted whoever made it", name: part("db2.example", made: now - 2 * day),
            unchangedFor: nil, deleted: true),
        Case(label: "not one of ours: kept", name: ".a.csv.part", unchangedFor: 3600, deleted: false),
    ]

    @Test("the decision, name by name", arguments: cases)
    func decide(_ item: Case) {
        let candidates = FTPLeftovers.killedRunParts(
            names: [item.name, "a.csv"], now: Self.now, olderThanSeconds: Self.day, here: Self.here)
        var modified: [String: Int64] = [:]
        // Only the names picked are asked about (MDTM), as the session does.
        for name in candidates { modified[name] = item.unchangedFor.map { Self.now - $0 } }
        let steps = FTPLeftovers.plan(
            names: [item.name, "a.csv"], now: Self.now, olderThanSeconds: Self.day, modified: modified)
        #expect(steps == (item.deleted ? [.delete(item.name)] : []))
    }

    @Test("a host name is matched as names carry it")
    func sanitizedHost() {
        let here = FTPLeftovers.Here(host: "we ird/host", isAlive: { _ in false })
        let name = FTPTemporaryName(finalName: "a.csv", kind: .part, host: "we ird/host", processID: 9, unixTime: 5)
            .name
        #expect(FTPLeftovers.killedRunParts(names: [name], now: 100, olderThanSeconds: Self.day, here: here) == [name])
    }

    @Test(
        "MDTM replies",
        arguments: [
            (213, "20261201193000", Int64(1_796_153_400)), (213, "20261201193000.123", 1_796_153_400),
            (213, "20000229000000", 951_782_400), (213, "19700101000001", 1), (550, "20261201193000", nil),
            (213, "2026120119300", nil), (213, "20261301193000", nil), (213, "2026120119300x", nil), (213, "", nil),
        ] as [(Int, String, Int64?)])
    func modificationTime(code: Int, text: String, expected: Int64?) {
        #expect(FTPLeftovers.modificationTime(FTPReply(code: code, lines: [text])) == expected)
    }
}
