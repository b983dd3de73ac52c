@_spi(Internals) import Compression
import Foundation
import Testing

@Suite("streaming decoders against Python's gzip, zlib and zipfile")
struct DecodingTests {
    static let csv = Array((0..<4000).map { "row \($0),\($0 * 7 % 13),é\n" }.joined().utf8)

    @Test("our gzip is Python's: it decompresses it, and equal content gives equal bytes (MTIME 0)")
    func encoderAgainstPython() throws {
        let ours = gzipped(Self.csv)
        #expect(ours == gzipped(Self.csv))
        #expect(Array(ours[4..<8]) == [0, 0, 0, 0])
        #expect(
            try python(
                "import gzip,sys; sys.stdout.buffer.write(gzip.decompress(sys.stdin.buffer.read()))", input: ours)
                == Self.csv)
        #expect(gzipped([]).count == 20)
    }

    @Test("Python's gzip (name in the header, two members, zero padding) decodes at every split")
    func pythonGzip() throws {
        let small = Array("a,b\n1,2\n".utf8)
        let made = try python(
            "import gzip,io,sys\nb=io.BytesIO()\nf=gzip.GzipFile(filename='x.csv',mode='wb',fileobj=b,mtime=7)\n"
                + "f.write(sys.stdin.buffer.read()); f.close()\nd=b.getvalue()\nsys.stdout.buffer.write(d+d+bytes(3))",
            input: small)
        for splits in everySplit(made.count) {
            let run = pumpRun(made, splits: splits) { () throws(CompressionError) in
                try DecodePump(contentCodings: [], file: .gzip)
            }
            #expect(
                run.error == nil && run.output == small + small, "split at \(splits): \(String(describing: run.error))")
        }
    }

    @Test("a gzip stream cut anywhere is a truncation; a wrong CRC too; garbage after it is refused")
    func truncated() throws {
        let whole = gzipped(Array("x,y\n1,2\n".utf8))
        for cut in 1..<whole.count {
            let run = pumpRun(Array(whole[..<cut]), splits: []) { () throws(CompressionError) in
                try DecodePump(contentCodings: [], file: .gzip)
            }
            #expect(run.error?.kind == .truncated, "cut at \(cut): \(String(describing: run.error))")
        }
        var damaged = whole
        damaged[whole.count - 8] ^= 1
        #expect(
            pumpRun(damaged, splits: []) { () throws(CompressionError) in
                try DecodePump(contentCodings: [], file: .gzip)
            }.error?.kind == .truncated)
        #expect(
            pumpRun([], splits: []) { () throws(CompressionError) in try DecodePump(contentCodings: [], file: .gzip) }
                .error?.kind == .invalid)
        #expect(
            pumpRun(whole + [0x61], splits: []) { () throws(CompressionError) in
                try DecodePump(contentCodings: [], file: .gzip)
            }.error?.kind == .invalid)
        #expect(
            pumpRun(Array("a,b\n".utf8), splits: []) { () throws(CompressionError) in
                try DecodePump(contentCodings: ["gzip"], file: nil)
            }.error?.message.contains("not gzip") == true)
    }

    @Test("Content-Encoding deflate, zlib-wrapped or raw; gzip over a .csv.gz (two layers)")
    func contentCodings() throws {
        let zlib = try python(
            "import zlib,sys; sys.stdout.buffer.write(zlib.compress(sys.stdin.buffer.read()))", input: Self.csv)
        let raw = try python(
            "import zlib,sys; c=zlib.compressobj(6,8,-15); sys.stdout.buffer.write(c.compress(sys.stdin.buffer.read())+c.flush())",
            input: Self.csv)
        for body in [zlib, raw] {
            for splits in [[], [1], [2], [100, 101, 5000]] {
                let run = pumpRun(body, splits: splits) { () throws(CompressionError) in
                    try DecodePump(contentCodings: ["deflate"], file: nil)
                }
                #expect(run.error == nil && run.output == Self.csv)
            }
            let cut = pumpRun(Array(body.dropLast(6)), splits: []) { () throws(CompressionError) in
                try DecodePump(contentCodings: ["deflate"], file: nil)
            }
            #expect(cut.error?.kind == .truncated)
        }
        let twice = gzipped(gzipped(Self.csv))
        let run = pumpRun(twice, splits: [3, 700]) { () throws(CompressionError) in
            try DecodePump(contentCodings: ["x-gzip"], file: .gzip)
        }
        #expect(run.error == nil && run.output == Self.csv)
        #expect(throws: CompressionError.self) { try DecodePump(contentCodings: ["br"], file: nil) }
    }

    @Test("backpressure: a consumer that stops after each piece gets everything, 64 KiB at most at a time")
    func backpressure() throws {
        // 8 MiB of zeros compress to ~8 KiB: one small read inflates a thousandfold.
        let zeros = [UInt8](repeating: 0x30, count: 8 << 20)
        let body = gzipped(zeros)
        let run = pumpRun(body, splits: [body.count / 2], stopEvery: 1) { () throws(CompressionError) in
            try DecodePump(contentCodings: [], file: .gzip)
        }
        #expect(run.error == nil && run.output.count == zeros.count && run.output == zeros)
        #expect(run.largestPiece <= 64 * 1024)
    }

    @Test("MAX_BYTES: decoded bytes over the limit stop the body")
    func limit() throws {
        let body = gzipped(Self.csv)
        let over = pumpRun(body, splits: []) { () throws(CompressionError) in
            try DecodePump(contentCodings: [], file: .gzip, maxBytes: 1000)
        }
        #expect(over.error?.kind == .limit)
        let exact = pumpRun(body, splits: []) { () throws(CompressionError) in
            try DecodePump(contentCodings: [], file: .gzip, maxBytes: UInt64(Self.csv.count))
        }
        #expect(exact.error == nil)
        let identity = pumpRun(Self.csv, splits: []) { () throws(CompressionError) in
            try DecodePump(contentCodings: [], file: nil, maxBytes: 10)
        }
        #expect(identity.error?.kind == .limit)
        #expect(DecodePump.defaultDecodedLimit == 100 << 30)
        // A resumed range: the bytes of the file before it count too (the rest alone would be within the limit).
        let limit = UInt64(Self.csv.count) + 100
        let resumed = pumpRun(Self.csv, splits: []) { () throws(CompressionError) in
            try DecodePump(contentCodings: [], file: nil, maxBytes: limit, counted: 101)
        }
        #expect(resumed.error?.kind == .limit)
        #expect(resumed.error?.message.contains("more than \(limit) bytes") == true)
        let within = pumpRun(Self.csv, splits: []) { () throws(CompressionError) in
            try DecodePump(contentCodings: [], file: nil, maxBytes: limit, counted: 100)
        }
        #expect(within.error == nil)
    }

    @Test("infer: a .gz body that is gzip is decoded; one that is not goes on as it is, and says so")
    func sniffing() throws {
        for body in [Array("a,b\n1,2\n".utf8), [], [0x1f], [0x1f, 0x61]] {
            for splits in everySplit(body.count) {
                var pump: DecodePump?
                let run = pumpRun(body, splits: splits) { () throws(CompressionError) in
                    let made = try DecodePump(contentCodings: [], file: .gzip, inferred: true)
                    pump = made
                    return made
                }
                #expect(
                    run.error == nil && run.output == body && pump?.inferredMismatch == true, "\(body) at \(splits)")
            }
        }
        var pump: DecodePump?
        let run = pumpRun(gzipped(Self.csv), splits: [1]) { () throws(CompressionError) in
            let made = try DecodePump(contentCodings: [], file: .gzip, inferred: true)
            pump = made
            return made
        }
        #expect(run.error == nil && run.output == Self.csv && pump?.inferredMismatch == false)
    }

    @Test("a gzip passed through is checked on the way: the bytes are the source's, a cut one still fails")
    func passThrough() throws {
        let body = gzipped(Self.csv)
        let run = pumpRun(body, splits: [5, 999], stopEvery: 2) { () throws(CompressionError) in
            try DecodePump(contentCodings: [], file: .gzip, inferred: true, passFileThrough: true)
        }
        #expect(run.error == nil && run.output == body)
        let cut = pumpRun(Array(body.dropLast(3)), splits: []) { () throws(CompressionError) in
            try DecodePump(contentCodings: [], file: .gzip, passFileThrough: true)
        }
        #expect(cut.error?.kind == .truncated)
    }

    /// Python's zipfile writes the archive; `streamed` makes it write to a pipe (data descriptors, as zip tools
    /// writing to stdout do).
    static func zip(_ members: [(String, String, stored: Bool)], streamed: Bool = false) throws -> [UInt8] {
        let list = members.map {
            "(\"\($0.0)\", \"\($0.1.replacingOccurrences(of: "\n", with: "\\n"))\", \($0.stored ? "zipfile.ZIP_STORED" : "zipfile.ZIP_DEFLATED"))"
        }
        let sink =
            streamed
            ? "class S(io.RawIOBase):\n  def writable(self): return True\n  def write(self,b): out.extend(b); return len(b)\nf=S()\n"
            : "f=io.BytesIO()\n"
        let script =
            "import io,sys,zipfile\nout=bytearray()\n" + sink
            + "with zipfile.ZipFile(f,'w') as z:\n  for n,t,m in [\(list.joined(separator: ","))]:\n    z.writestr(zipfile.ZipInfo(n) if n.endswith('/') else n,t,compress_type=m)\n"
            + "sys.stdout.buffer.write(bytes(out) if out else f.getvalue())"
        return try python(script)
    }

    static func unzip(_ body: [UInt8], member: String? = nil, splits: [Int] = []) -> PumpRun {
        pumpRun(body, splits: splits) { () throws(CompressionError) in
            try DecodePump(contentCodings: [], file: .zip(member: member))
        }
    }

    @Test("a ZIP's one file, deflated or stored, with or without data descriptors, at every split")
    func zipOne() throws {
        let text = "a,b\n1,2\n3,4\n"
        for stored in [false, true] {
            for streamed in [false, true] where !(stored && streamed) {
                let body = try Self.zip(
                    [("data/", "", stored: true), ("data/x.csv", text, stored: stored)], streamed: streamed)
                for splits in everySplit(body.count) {
                    let run = Self.unzip(body, splits: splits)
                    #expect(
                        run.error == nil && run.output == Array(text.utf8),
                        "stored \(stored) streamed \(streamed) at \(splits): \(String(describing: run.error))")
                }
            }
        }
    }

    @Test("several files: the one named is decoded; without a name, or with a name not there, a clear refusal")
    func zipMembers() throws {
        let body = try Self.zip([
            ("a.csv", "x\n1\n", stored: false), ("b.csv", "y\n2\n", stored: true), ("c.csv", "z\n3\n", stored: false),
        ])
        let streamed = try Self.zip(
            [
                ("a.csv", "x\n1\n", stored: false), ("b.csv", "y\n2\n", stored: false),
                ("c.csv", "z\n3\n", stored: false),
            ], streamed: true)
        for archive in [body, streamed] {
            for name in ["a.csv", "b.csv", "c.csv"] {
                let run = Self.unzip(archive, member: name, splits: [40, 41, 150])
                let expected = ["a.csv": "x\n1\n", "b.csv": "y\n2\n", "c.csv": "z\n3\n"][name]!
                #expect(
                    run.error == nil && run.output == Array(expected.utf8), "\(name): \(String(describing: run.error))")
            }
        }
        #expect(Self.unzip(body).error?.message.contains("more than one file") == true)
        let missing = Self.unzip(body, member: "d.csv").error
        #expect(missing?.kind == .member && missing?.message.contains("\"a.csv\", \"b.csv\", \"c.csv\"") == true)
        #expect(Self.unzip(try Self.zip([])).error?.message == "the ZIP holds no file")
        let cut = Self.unzip(Array(body.prefix(38)), member: "a.csv")
        #expect(cut.error?.kind == .truncated)
    }

    @Test("ZIP64, encrypted and stored-with-descriptor members are refused by name")
    func zipRefused() throws {
        let zip64 = try python(
            "import io,sys,zipfile\nf=io.BytesIO()\nwith zipfile.ZipFile(f,'w') as z:\n  with z.open('big.csv','w',force_zip64=True) as m: m.write(b'a\\n')\nsys.stdout.buffer.write(f.getvalue())"
        )
        #expect(Self.unzip(zip64).error?.message.contains("ZIP64") == true)
        var encrypted = try Self.zip([("x.csv", "a\n", stored: false)])
        encrypted[6] |= 1
        #expect(Self.unzip(encrypted).error?.message.contains("encrypted") == true)
        var descriptor = try Self.zip([("x.csv", "a\n", stored: true)])
        descriptor[6] |= 8
        #expect(Self.unzip(descriptor).error?.message.contains("data descriptor") == true)
    }
}
