import Testing

@_spi(Internals) @testable import WebToFTP

/// The byte-wise search that stands in for _StringProcessing's `contains(_:)` / `firstRange(of:)` (which would link the
/// regex engine into the binary), and the checks that now see bytes where they saw Characters.
@Suite("UTF-8 search and the name checks built on it")
struct UTF8SearchTests {
    @Test(
        "firstUTF8Range finds the first occurrence, byte for byte",
        arguments: [
            ("ftp://host", "://", 3..<6), ("abc", "abc", 0..<3), ("aaab", "aab", 1..<4), ("abc", "c", 2..<3),
            ("abc", "abcd", nil), ("", "a", nil), ("abc", "", 0..<0), ("abab", "ab", 0..<2),
            ("Straße/x", "/", 7..<8), ("e\u{301}", "e", 0..<1),
        ] as [(String, String, Range<Int>?)])
    func firstRange(haystack: String, needle: String, expected: Range<Int>?) {
        let found = haystack.firstUTF8Range(of: needle).map {
            haystack.utf8.distance(
                from: haystack.startIndex, to: $0.lowerBound)..<haystack.utf8.distance(
                    from: haystack.startIndex, to: $0.upperBound)
        }
        #expect(found == expected)
        #expect(haystack.containsUTF8(needle) == (expected != nil))
        #expect((haystack.dropFirst(0).firstUTF8Range(of: needle) != nil) == (expected != nil))
    }

    @Test("a '/' or '..' joined to a combining mark is still a '/' or '..' (a Character comparison missed it)")
    func combiningMarks() {
        #expect(ConfigLoader.nameProblem("a/\u{301}b") == "the name must not contain '/'")
        #expect(ConfigLoader.nameProblem("a..\u{301}") == "the name must not contain '..'")
        #expect(TargetTemplate.problem("../\u{301}x.csv") == "must not contain '..'")
        #expect(TargetTemplate.problem("/\u{301}etc/x.csv") == "must be relative to FTPTARGET (no leading '/')")
        #expect(TargetTemplate.problem("d\u{301}/x.csv") == nil)
    }

    @Test("RunEvent quotes values with spaces or quotes, replacing the quotes")
    func quoting() {
        #expect("say \"hi\"".replacingAll("\"", "'") == "say 'hi'")
        #expect("a\"\"b".replacingAll("\"", "") == "ab")
        #expect("abc".replacingAll("x", "y") == "abc")
    }
}
