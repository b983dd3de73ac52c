@_spi(Internals) import Compression
import Testing

@Suite("what is decompressed: pandas' inference, the magic bytes, the output's suffix")
struct CompressionRuleTests {
    @Test(
        "infer reads the URL path's suffix as pandas does",
        arguments: [
            ("/data.csv.gz", "gzip"), ("/DATA.CSV.GZ", "gzip"), ("/a.zip", "zip"), ("/a.csv", nil), ("/a.tgz", nil),
            ("/a.tar.gz", "tar"), ("/a.csv.bz2", "bz2"), ("/a.xz", "xz"), ("/a.zst", "zstd"), ("/gz", nil),
        ] as [(String, String?)])
    func suffix(_ path: String, _ method: String?) {
        #expect(CompressionRule.method(forSuffixOf: path) == method)
    }

    @Test("infer, a named method, none; unsupported methods are config errors naming what is supported")
    func expected() throws {
        #expect(try CompressionRule.expected(.infer, urlPath: "/x.csv.gz")! == (.gzip, true))
        #expect(try CompressionRule.expected(.infer, urlPath: "/x.zip")! == (.zip(member: nil), true))
        #expect(try CompressionRule.expected(.infer, urlPath: "/x.csv") == nil)
        #expect(try CompressionRule.expected(.none, urlPath: "/x.csv.gz") == nil)
        #expect(try CompressionRule.expected(.method(.gzip), urlPath: "/x.csv")! == (.gzip, false))
        for path in ["/x.csv.bz2", "/x.tar.gz", "/x.xz", "/x.zst"] {
            #expect {
                try CompressionRule.expected(.infer, urlPath: path)
            } throws: {
                ($0 as? CompressionError)?.message.contains("not supported (supported: gzip, zip)") == true
            }
        }
    }

    @Test(
        "magic bytes: a decision as soon as the bytes allow one",
        arguments: [
            (CompressionMethod.gzip, [], nil), (.gzip, [0x1f], nil), (.gzip, [0x1f, 0x8b], true),
            (.gzip, [0x61], false),
            (.gzip, [0x1f, 0x61], false), (.zip(member: nil), [0x50, 0x4b, 3], nil),
            (.zip(member: nil), [0x50, 0x4b, 3, 4], true), (.zip(member: nil), [0x50, 0x4b, 5, 6], true),
            (.zip(member: nil), [0x50, 0x4b, 1, 2], false), (.zip(member: nil), [0x61], false),
        ] as [(CompressionMethod, [UInt8], Bool?)])
    func magic(_ method: CompressionMethod, _ prefix: [UInt8], _ matches: Bool?) {
        #expect(CompressionRule.magicMatches(method, prefix: prefix) == matches)
    }

    @Test("the output is gzip when OUTPUT says so, else when the rendered TARGET ends in .gz")
    func output() throws {
        #expect(try CompressionRule.outputIsGzip(.infer, target: "in/x.csv.gz"))
        #expect(try !CompressionRule.outputIsGzip(.infer, target: "in/x.csv"))
        #expect(try !CompressionRule.outputIsGzip(.none, target: "in/x.csv.gz"))
        #expect(try CompressionRule.outputIsGzip(.method(.gzip), target: "in/x.csv"))
        #expect(throws: CompressionError.self) { try CompressionRule.outputIsGzip(.infer, target: "x.zip") }
        #expect(throws: CompressionError.self) {
            try CompressionRule.outputIsGzip(.method(.zip(member: nil)), target: "x")
        }
    }
}

func == (left: (CompressionMethod, Bool), right: (CompressionMethod, Bool)) -> Bool {
    left.0 == right.0 && left.1 == right.1
}
