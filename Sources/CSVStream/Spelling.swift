/// Did-you-mean for a word the user got slightly wrong (a PARAMS key, a config key, a command-line option): one
/// suggestion instead of the whole list of known words, as git and cargo do. Pure, so it is table-tested.
@_spi(Internals) public enum Spelling {
    /// The known word closest to `word`, when it is close enough to be what was meant: a case difference, a letter
    /// dropped, added, changed or two swapped (more for longer words), or the start of only one known word. Ties go
    /// to the first in `known`.
    public static func suggestion(for word: String, among known: [String]) -> String? {
        let lowered = word.lowercased()
        var best: (word: String, distance: Int)?
        for candidate in known where candidate != word {
            let distance = self.distance(lowered, candidate.lowercased())
            if distance < (best?.distance ?? Int.max) { best = (candidate, distance) }
        }
        if let best, best.distance <= allowance(for: word) { return best.word }
        // `--work` for `--workers`: a unique start, long enough to mean something.
        let starts = known.filter { $0 != word && $0.lowercased().hasPrefix(lowered) }
        if lowered.trimmingDashes.count >= 3, starts.count == 1 { return starts[0] }
        return nil
    }

    /// `'sepp' — did you mean 'sep'?`, or nil when nothing is close.
    public static func hint(for word: String, among known: [String]) -> String? {
        suggestion(for: word, among: known).map { "did you mean '\($0)'?" }
    }

    /// How many edits still look like a slip: one for short words, up to three for long ones.
    static func allowance(for word: String) -> Int {
        switch word.trimmingDashes.count {
        case 0...2: return 0
        case 3...5: return 1
        case 6...10: return 2
        default: return 3
        }
    }

    /// Edits from `a` to `b` (insert, delete, substitute, swap two neighbours: optimal string alignment), by
    /// Unicode scalar.
    public static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a.unicodeScalars)
        let b = Array(b.unicodeScalars)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        // Three rows: the one before the previous is needed for swaps.
        var before = [Int](repeating: 0, count: b.count + 1)
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    current[j] = min(current[j], before[j - 2] + 1)
                }
            }
            (before, previous, current) = (previous, current, before)
        }
        return previous[b.count]
    }
}

extension String {
    fileprivate var trimmingDashes: Substring { drop { $0 == "-" } }
}
