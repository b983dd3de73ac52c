// The standard library's `contains(_: String)` and `firstRange(of:)` on strings live in _StringProcessing, and one call
// links that module and the regex parser whole: ≈ 1.2 MB of the static binary (README, "Binary size"). These compare
// UTF-8 bytes, which is also what the protocols and file names here mean.
extension StringProtocol {
    /// The first occurrence of `needle`, byte for byte.
    @_spi(Internals) public func firstUTF8Range(of needle: String) -> Range<String.Index>? {
        let bytes = utf8
        let target = needle.utf8
        guard let first = target.first else { return startIndex..<startIndex }
        var start = bytes.startIndex
        while let candidate = bytes[start...].firstIndex(of: first) {
            var end = candidate
            var matched = true
            for byte in target {
                guard end < bytes.endIndex, bytes[end] == byte else {
                    matched = false
                    break
                }
                end = bytes.index(after: end)
            }
            if matched { return candidate..<end }
            start = bytes.index(after: candidate)
        }
        return nil
    }

    /// Whether `needle` occurs, byte for byte.
    @_spi(Internals) public func containsUTF8(_ needle: String) -> Bool { firstUTF8Range(of: needle) != nil }
}
