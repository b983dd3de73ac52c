import Foundation
@_spi(Internals) import TestSupport
import Testing

@Suite("--dry-run runs the CSV transform over the first 64 KiB of each source")
struct DryRunCSVTests {
    @Test(
        """
        a missing usecols column and a wrong encoding fail the dry run as they would fail the run; a sample cut at \
        64 KiB in the middle of a row passes
        """
    )
    func transformChecked() throws {
        try TestEnv.require(.nginxHTTP, .nginxHTTPS, .vsftpd)
        let scenario = try Scenario("dryrun-csv")
        try scenario.writeConfig(
            """
            {"missing_column": {"URL": "\(http)/small.csv", "PARAMS": {"usecols": ["id", "zzz"]}},
             "wrong_encoding": {"URL": "\(http)/demo/sales-latin1.csv", "PARAMS": {"sep": ";"}},
             "small_ok": {"URL": "\(http)/small.csv", "PARAMS": {"usecols": ["id"]}},
             "large_ok": {"URL": "\(http)/large.csv", "PARAMS": {"usecols": ["id", "label"]}},
             "chunked_ok": {"URL": "\(https)/chunked/large.csv", "PARAMS": {"usecols": ["label"]}},
             "plain": {"URL": "\(http)/large.csv"}}
            """)
        let run = try scenario.run("sequential", ["--dry-run"])
        let log = scenario.log
        #expect(run.status == 1, "\(log)")
        #expect(scenario.files.isEmpty)
        let missing = SecurityTests.failure(log, "missing_column")
        #expect(missing.contains("class=permanent") && missing.contains("no column named 'zzz'"), "\(log)")
        let encoding = SecurityTests.failure(log, "wrong_encoding")
        #expect(encoding.contains("class=permanent") && encoding.contains("CSV: "), "\(log)")
        for name in ["small_ok", "large_ok", "chunked_ok", "plain"] {
            #expect(log.contains("[\(name)] checked http_status=2"), "\(name): \(log)")
        }
        let summary = try #require(scenario.summary)
        #expect(summary["failed"] as? Int == 2 && summary["succeeded"] as? Int == 4)
        // bytes_down counts every sample, the failed sources' included; a source without a transform reads no body.
        func size(_ file: String) throws -> Int {
            try FileManager.default.attributesOfItem(atPath: TestEnv.wwwDirectory + "/" + file)[.size] as? Int ?? -1
        }
        let sources = try #require(summary["sources"] as? [[String: Any]])
        func bytesDown(_ name: String) -> Int? {
            sources.first { $0["name"] as? String == name }?["bytes_down"] as? Int
        }
        #expect(bytesDown("missing_column") == (try size("small.csv")))
        #expect(bytesDown("wrong_encoding") == min(64 * 1024, try size("demo/sales-latin1.csv")))
        let expected = try 2 * size("small.csv") + min(64 * 1024, size("demo/sales-latin1.csv")) + 2 * 64 * 1024
        #expect(summary["bytes_down"] as? Int == expected, "\(summary)")
    }
}
