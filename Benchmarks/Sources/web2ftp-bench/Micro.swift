@_spi(Internals) import CSVStream
@_spi(Internals) import FTP
import Foundation
@_spi(Internals) import HTTP1
@_spi(Internals) import TLS

/// Hot-path micro-benchmarks: each case parses a fixed 4 MiB input (built once) as many times as `--mib` asks, fed in
/// 64 KiB chunks like the network delivers it. Wall MB/s here is noisy on a shared machine; scripts/bench.sh also
/// runs each case under callgrind at two sizes and reports the difference as instructions per byte, which is not.
enum Micro {
    static let inputBytes = 4 << 20
    static let feedBytes = 64 * 1024

    struct Case: Sendable {
        let name: String
        let what: String
        let input: @Sendable () -> [UInt8]
        /// Parses the whole input once; returns something derived from the work so it cannot be optimised away.
        let pass: @Sendable ([UInt8]) -> Int
    }

    static let cases: [Case] = [
        Case(
            name: "http-head", what: "HTTP response heads (keep-alive stream of 204s, ~300 B each)",
            input: { repeated(httpHead) }, pass: parseHTTP),
        Case(
            name: "http-length", what: "HTTP body, Content-Length",
            input: {
                Array("HTTP/1.1 200 OK\r\nContent-Length: \(inputBytes - 64)\r\n\r\n".utf8).padded(to: inputBytes)
            },
            pass: parseHTTP),
        Case(
            name: "http-chunked", what: "HTTP body, chunked (16 KiB chunks as nginx sends them)",
            input: chunkedBody, pass: parseHTTP),
        Case(
            name: "ftp-replies", what: "FTP replies (single and multi-line)",
            input: { repeated(ftpReplies) }, pass: parseFTP),
        Case(
            name: "csv-tokenize", what: "CSV tokenizer alone (UTF-8, quoted fields)",
            input: { csvInput(.utf8) }, pass: tokenize),
        transforming("csv-passthrough", "CSV transform, default PARAMS (parse + rewrite)", .utf8),
        transforming("csv-plain", "CSV transform, default PARAMS, rows without quotes (copied whole)", .plain),
        transforming(
            "csv-plain-redelimit", "CSV transform, rows without quotes, ',' → ';' (OUTPUT.sep)", .plain,
            output: ["sep": .string(";")]),
        transforming("csv-redelimit", "CSV transform, latin-1 ';' → UTF-8 ','", .latin1, params: latin1Semicolon()),
        transforming(
            "csv-date", "CSV transform, latin-1 ';' + a dayfirst date column", .latin1,
            params: latin1Semicolon(["parse_dates": .array([.string("Datum")]), "dayfirst": .bool(true)])),
        transforming(
            "csv-short", "CSV transform, short fields (24 per row), latin-1 ';' → UTF-8 ','", .short,
            params: latin1Semicolon()),
        transforming(
            "csv-short-cols", "CSV transform, short fields, latin-1 ';', usecols 8 of 24, decimal ','", .short,
            params: latin1Semicolon([
                "decimal": .string(","), "usecols": .array([0, 1, 4, 6, 9, 14, 17, 22].map { .integer($0) }),
            ])),
        Case(
            name: "sha256", what: "SHA-256 of the uploaded bytes (libcrypto)",
            input: { csvInput(.utf8) }, pass: digest),
    ]

    static func run(only: String?, mebibytes: Int, repeats: Int) {
        let selected = cases.filter { only == nil || $0.name == only }
        if selected.isEmpty { fail("no micro-benchmark named \(only ?? ""); known: \(cases.map(\.name))") }
        let passes = max(1, (mebibytes << 20) / inputBytes)
        print("case              MB/s (best of \(repeats), \(passes * inputBytes >> 20) MiB each)   what")
        for item in selected {
            let input = item.input()
            var best = Double.infinity
            var check = 0
            for _ in 0..<repeats {
                let start = DispatchTime.now().uptimeNanoseconds
                for _ in 0..<passes { check &+= item.pass(input) }
                best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            }
            let rate = Double(passes * input.count) / best / 1e6
            let name = item.name.padding(toLength: 16, withPad: " ", startingAt: 0)
            print("\(name)  \(String(format: "%8.0f", rate))                          \(item.what)  [\(check % 10)]")
        }
    }

    // MARK: inputs

    static let httpHead = Array(
        """
        HTTP/1.1 204 No Content\r
        Server: nginx/1.22.1\r
        Date: Thu, 26 Nov 2026 22:23:00 GMT\r
        Connection: keep-alive\r
        ETag: "6565a0b4-3e8"\r
        Last-Modified: Tue, 28 Nov 2023 08:11:00 GMT\r
        Cache-Control: max-age=3600\r
        X-Request-Id: 4f1c2a9e-8d7b-4c55-9a3e-2b6f0d1e7c88\r
        Accept-Ranges: bytes\r
        \r

        """.utf8)

    static let ftpReplies = Array(
        """
        150 Ok to send data.\r
        226 Transfer complete.\r
        211-Features:\r
         EPRT\r
         EPSV\r
         MDTM\r
         PASV\r
         SIZE\r
         UTF8\r
        211 End\r
        229 Entering Extended Passive Mode (|||18105|)\r
        213 104857600\r
        350 Ready for RNTO.\r
        250 Rename successful.\r

        """.utf8)

    static func repeated(_ unit: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(inputBytes)
        while out.count + unit.count <= inputBytes { out += unit }
        return out
    }

    static func chunkedBody() -> [UInt8] {
        var out = Array("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".utf8)
        let chunk = 16 * 1024
        while out.count + chunk + 16 < inputBytes {
            out += Array("\(String(chunk, radix: 16))\r\n".utf8)
            out += [UInt8](repeating: 97, count: chunk)
            out += [13, 10]
        }
        out += Array("0\r\n\r\n".utf8)
        return out
    }

    static func csvInput(_ kind: RowKind) -> [UInt8] {
        var rows = Rows(seed: 7)
        while rows.buffer.count < inputBytes { kind.append(into: &rows) }
        let cut = rows.buffer[..<inputBytes].lastIndex(of: 10)! + 1
        return Array(rows.buffer[..<cut])
    }

    // MARK: passes

    static func chunks(_ input: [UInt8], _ body: (UnsafeRawBufferPointer) -> Void) {
        input.withUnsafeBytes { all in
            var start = 0
            while start < all.count {
                let end = min(start + feedBytes, all.count)
                body(UnsafeRawBufferPointer(rebasing: all[start..<end]))
                start = end
            }
        }
    }

    static func parseHTTP(_ input: [UInt8]) -> Int {
        var parser = HTTPResponseParser()
        var events = 0
        chunks(input) { chunk in
            var rest = chunk
            while !rest.isEmpty {
                var ended = false
                let used = try! parser.feed(rest) { event in
                    events += 1
                    if case .end = event { ended = true }
                    return !ended
                }
                rest = UnsafeRawBufferPointer(rebasing: rest[used...])
                if ended { parser.reset(requestMethod: "GET") }
            }
        }
        return events
    }

    static func parseFTP(_ input: [UInt8]) -> Int {
        var parser = FTPReplyParser()
        var replies = 0
        chunks(input) { chunk in try! parser.feed(chunk) { replies += $0.code } }
        return replies
    }

    static func tokenize(_ input: [UInt8]) -> Int {
        var tokenizer = CSVTokenizer(separator: 44, quote: 34, escape: nil, comment: nil, maxRecordBytes: 1 << 20)
        var fields = 0
        chunks(input) { chunk in _ = try! tokenizer.feed(chunk) { fields += $0.fieldCount } }
        return fields
    }

    /// A CSV transform of rows of `kind` under `params` and `output`.
    static func transforming(
        _ name: String, _ what: String, _ kind: RowKind, params: [String: CSVParam] = [:],
        output: [String: CSVParam]? = nil
    ) -> Case {
        Case(name: name, what: what, input: { csvInput(kind) }, pass: { transform($0, params: params, output: output) })
    }

    /// PARAMS of the latin-1 ';' inputs (a German export), with `more`.
    static func latin1Semicolon(_ more: [String: CSVParam] = [:]) -> [String: CSVParam] {
        ["sep": .string(";"), "encoding": .string("latin-1")].merging(more) { $1 }
    }

    static func transform(_ input: [UInt8], params: [String: CSVParam], output: [String: CSVParam]? = nil) -> Int {
        let options = try! CSVOptions(params: params, output: output)
        let transformer = CSVTransformer(options: options)
        var output: [UInt8] = []
        output.reserveCapacity(feedBytes * 2)
        var total = 0
        chunks(input) { chunk in
            output.removeAll(keepingCapacity: true)
            try! transformer.push(chunk, into: &output)
            total += output.count
        }
        output.removeAll(keepingCapacity: true)
        try! transformer.finish(into: &output)
        return total + output.count
    }

    static func digest(_ input: [UInt8]) -> Int {
        var sha = SHA256()
        chunks(input) { sha.update($0) }
        return sha.hexDigest().utf8.count
    }
}

extension Array where Element == UInt8 {
    func padded(to count: Int) -> [UInt8] { self + [UInt8](repeating: 120, count: Swift.max(0, count - self.count)) }
}
