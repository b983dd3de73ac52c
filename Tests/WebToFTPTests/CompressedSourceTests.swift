import Foundation
@_spi(Internals) import Reactor
@_spi(Internals) import TestSupport
import Testing
@_spi(Internals) import WebToFTP

/// Issue #18 part 1, end to end: gzip and ZIP sources from nginx (files, and `gzip on` as a content coding), a
/// gzip output, and MAX_BYTES against vsftpd. A cut gzip stream and a lying Content-Encoding are rows of the fault
/// matrix (MisbehavingServerRows.swift).
@Suite("compressed sources, end to end against nginx and vsftpd")
struct CompressedSourceTests {
    init() throws {
        try TestEnv.require(.nginxHTTP, .vsftpd)
    }

    static func www(_ name: String) throws -> Data {
        try Data(contentsOf: URL(fileURLWithPath: TestEnv.wwwDirectory + "/" + name))
    }

    func file(_ scenario: Scenario, _ name: String) -> Data? {
        FileManager.default.contents(atPath: scenario.target + "/" + name)
    }

    @Test("gzip and ZIP sources are published decoded; a gzip mirrored as gzip is the source's bytes; pandas agrees")
    func published() throws {
        let scenario = try Scenario("gzip")
        try scenario.writeConfig(
            """
            {"gz": {"URL": "\(http)/small.csv.gz"},
             "mirror": {"URL": "\(http)/large.csv.gz", "TARGET": "{name}.csv.gz"},
             "transformed": {"URL": "\(http)/large.csv.gz", "PARAMS": {"usecols": ["id", "label"], "nrows": 100},
                             "TARGET": "{name}.csv.gz"},
             "wire": {"URL": "\(http)/gzip/large.csv"},
             "wire_csv": {"URL": "\(http)/gzip/large.csv", "PARAMS": {"sep": ","}},
             "zip": {"URL": "\(http)/small.zip"},
             "member": {"URL": "\(http)/two.zip", "PARAMS": {"compression": {"method": "zip", "name": "large.csv"}}},
             "plain": {"URL": "\(http)/not-gzip.csv.gz"},
             "asis": {"URL": "\(http)/small.csv.gz", "PARAMS": {"compression": null}},
             "gzipped": {"URL": "\(http)/small.csv", "OUTPUT": {"compression": "gzip"}}}
            """)
        let run = try scenario.run("parallel")
        #expect(run.status == 0, "\(run.error)")
        let small = try Self.www("small.csv")
        let large = try Self.www("large.csv")
        #expect(file(scenario, "gz.csv") == small)
        #expect(file(scenario, "mirror.csv.gz") == (try Self.www("large.csv.gz")))
        #expect(file(scenario, "wire.csv") == large)
        #expect(file(scenario, "wire_csv.csv") == large)
        #expect(file(scenario, "zip.csv") == small)
        #expect(file(scenario, "member.csv") == large)
        #expect(file(scenario, "plain.csv") == small)
        #expect(file(scenario, "asis.csv") == (try Self.www("small.csv.gz")))
        // Our gzip output: Python reads it back; equal content, equal bytes (MTIME 0).
        let gzipped = try #require(file(scenario, "gzipped.csv"))
        #expect(
            try pythonOutput(
                "import gzip,sys; sys.stdout.buffer.write(gzip.decompress(open(sys.argv[1],'rb').read()))",
                scenario.target + "/gzipped.csv") == small)
        #expect(gzipped[4..<8] == Data([0, 0, 0, 0]))
        // pandas reads the .csv.gz itself (compression inferred) and would write what we published, decompressed.
        let pandas = try pythonOutput(
            "import pandas,sys; sys.stdout.write(pandas.read_csv(sys.argv[1], usecols=['id','label'], nrows=100, dtype=str, keep_default_na=False).to_csv(index=False))",
            TestEnv.wwwDirectory + "/large.csv.gz")
        let ours = try pythonOutput(
            "import gzip,sys; sys.stdout.buffer.write(gzip.open(sys.argv[1]).read())",
            scenario.target + "/transformed.csv.gz")
        #expect(ours == pandas && !ours.isEmpty)
        let log = scenario.log
        #expect(log.contains("[plain] compression detail=") && log.contains("is not gzip"))
        // bytes_in counts the wire: nginx's gzip of large.csv is far smaller than the file.
        let wireLine = try #require(log.split(separator: "\n").first { $0.contains("[wire] published") })
        let bytesIn = try #require(
            wireLine.split(separator: " ").first { $0.hasPrefix("bytes_in=") }.flatMap { Int($0.dropFirst(9)) })
        #expect(bytesIn < large.count / 2, "\(wireLine)")
    }

    @Test("a ZIP of two files without a name, and a body over MAX_BYTES, fail for good; nothing is published")
    func refused() throws {
        let scenario = try Scenario("gzip-refused")
        try scenario.writeConfig(
            """
            {"twozip": {"URL": "\(http)/two.zip"},
             "missing": {"URL": "\(http)/two.zip", "PARAMS": {"compression": {"method": "zip", "name": "nope.csv"}}},
             "bomb": {"URL": "\(http)/zeros.csv.gz", "MAX_BYTES": 1000000},
             "explicit": {"URL": "\(http)/small.csv", "PARAMS": {"compression": "gzip"}}}
            """)
        let run = try scenario.run("sequential")
        #expect(run.status == 1)
        #expect(scenario.files.isEmpty, "\(scenario.files)")
        let log = scenario.log
        #expect(log.contains("[twozip] failed class=permanent attempts=1") && log.contains("more than one file"))
        #expect(log.contains("[missing] failed class=permanent") && log.contains("no file named 'nope.csv'"))
        #expect(log.contains("[bomb] failed class=permanent attempts=1") && log.contains("MAX_BYTES"))
        #expect(log.contains("[explicit] failed class=permanent") && log.contains("not gzip"))
    }

    @Test("get keeps identity unless --compressed; with it, the gzip coding is asked for and decoded")
    func getCompressed() throws {
        let directory = NSTemporaryDirectory() + "w2f-get-gzip-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let large = try Self.www("large.csv")
        let plain = try runProduct("web2ftp", ["get", "\(http)/gzip/large.csv", "-o", directory + "/plain.csv", "-vv"])
        #expect(plain.status == 0 && !plain.error.contains("Content-Encoding"), "\(plain.error)")
        #expect(FileManager.default.contents(atPath: directory + "/plain.csv") == large)
        let compressed = try runProduct(
            "web2ftp", ["get", "\(http)/gzip/large.csv", "-o", directory + "/gz.csv", "--compressed", "-vv"])
        #expect(compressed.status == 0 && compressed.error.contains("Content-Encoding: gzip"), "\(compressed.error)")
        #expect(FileManager.default.contents(atPath: directory + "/gz.csv") == large)
    }
}

/// `python3 -c script argument`'s stdout.
func pythonOutput(_ script: String, _ argument: String) throws -> Data {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", "-c", script, argument]
    let out = Pipe()
    process.standardOutput = out
    try process.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    #expect(process.terminationStatus == 0, "python3 failed: \(script)")
    return data
}
