import Testing

@_spi(Internals) @testable import CSVStream

@Suite("Spelling: did-you-mean")
struct SpellingTests {
    @Test(
        "edit distance: insert, delete, substitute, swap neighbours",
        arguments: [
            ("", "", 0), ("sep", "sep", 0), ("sepp", "sep", 1), ("sp", "sep", 1), ("sap", "sep", 1),
            ("spe", "sep", 1), ("", "abc", 3), ("abc", "", 3), ("kitten", "sitting", 3), ("usecosl", "usecols", 1),
            ("é", "e", 1),
        ])
    func distance(a: String, b: String, expected: Int) {
        #expect(Spelling.distance(a, b) == expected)
        #expect(Spelling.distance(b, a) == expected)
    }

    static let keys = CSVOptions.supportedKeys

    @Test(
        "the nearest known word when it looks like a slip, else none",
        arguments: [
            ("sepp", keys, "sep"), ("SEP", keys, "sep"), ("usecol", keys, "usecols"),
            ("parsedates", keys, "parse_dates"),
            ("encodig", keys, "encoding"), ("date_fromat", keys, "date_format"), ("xyz", keys, nil),
            ("index_col", keys, nil), ("sep", keys, nil),
            ("--confg", ["--config", "--log"], "--config"), ("--work", ["--workers", "--log"], "--workers"),
            ("--lo", ["--log", "--only"], nil), ("-x", ["-v", "-q"], nil),
            ("--evn", ["--env", "--config"], "--env"),
            ("manul", ["manual", "schedule"], "manual"), ("URl", ["URL", "PARAMS"], "URL"),
        ] as [(String, [String], String?)])
    func suggestion(word: String, known: [String], expected: String?) {
        #expect(Spelling.suggestion(for: word, among: known) == expected)
    }

    @Test("PARAMS: one suggestion instead of the whole list; the list when nothing is close")
    func paramsMessage() {
        #expect(CSVOptions.unknownKey("PARAMS", "sepp", Self.keys) == "unknown PARAMS key 'sepp' — did you mean 'sep'?")
        #expect(
            CSVOptions.unknownKey("PARAMS", "index_col", Self.keys).hasPrefix(
                "unknown PARAMS key 'index_col' (supported: sep,"))
    }
}
