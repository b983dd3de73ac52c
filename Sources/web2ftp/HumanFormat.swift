/// Numbers as a person reads them on a terminal. Sizes are decimal (1 MB = 10⁶ bytes), as curl and rclone print
/// them, so that a figure here matches the figure a web server's listing or `ls --si` shows.
enum HumanFormat {
    /// `999 B`, `1.0 kB`, `12.3 MB`, `4.1 GB`: one decimal from kB up, rounded half up.
    static func size(_ bytes: UInt64) -> String {
        if bytes < 1000 { return "\(bytes) B" }
        let units = ["kB", "MB", "GB", "TB", "PB", "EB"]
        var unit = 0
        var scale: UInt64 = 1000
        // Tenths of the unit, rounded; a value that rounds to 1000.0 moves up a unit (999,960 B is 1.0 MB).
        while true {
            let tenths = (bytes / scale) * 10 + ((bytes % scale) * 10 + scale / 2) / scale
            if tenths < 10_000 || unit == units.count - 1 {
                return "\(tenths / 10).\(tenths % 10) \(units[unit])"
            }
            unit += 1
            scale *= 1000
        }
    }

    /// Bytes over milliseconds as a size per second; `0 B/s` before any time has passed.
    static func rate(_ bytes: UInt64, milliseconds: Int) -> String {
        guard milliseconds > 0 else { return "0 B/s" }
        let perSecond = bytes.multipliedReportingOverflow(by: 1000)
        let value =
            perSecond.overflow ? bytes / UInt64(milliseconds) * 1000 : perSecond.partialValue / UInt64(milliseconds)
        return size(value) + "/s"
    }

    /// A duration as a sentence has it: `35 ms`, `1.2 s`, `12.3 s`, `2 min 5 s`, `1 h 20 min`.
    static func duration(milliseconds: Int) -> String {
        let ms = max(0, milliseconds)
        if ms < 1000 { return "\(ms) ms" }
        if ms < 60_000 {
            let tenths = (ms + 50) / 100
            if tenths < 600 { return "\(tenths / 10).\(tenths % 10) s" }
        }
        return span(seconds: Int64((ms + 500) / 1000))
    }

    /// Whole seconds at the two largest units: `45 s`, `8 min`, `8 h 20 min`, `2 d 3 h` (a smaller unit that is 0 is
    /// left out; seconds only under a minute).
    static func span(seconds: Int64) -> String {
        let s = max(0, seconds)
        if s < 60 { return "\(s) s" }
        if s < 3600 { return s % 60 == 0 || s >= 600 ? "\(s / 60) min" : "\(s / 60) min \(s % 60) s" }
        let minutes = s / 60
        if minutes < 24 * 60 {
            return minutes % 60 == 0 ? "\(minutes / 60) h" : "\(minutes / 60) h \(minutes % 60) min"
        }
        let hours = minutes / 60
        return hours % 24 == 0 ? "\(hours / 24) d" : "\(hours / 24) d \(hours % 24) h"
    }

    /// Elapsed time as a clock: `0:07`, `12:34`, `1:02:03`.
    static func clock(milliseconds: Int) -> String {
        let s = max(0, milliseconds) / 1000
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return s < 3600 ? "\(s / 60):\(two(s % 60))" : "\(s / 3600):\(two(s / 60 % 60)):\(two(s % 60))"
    }

    /// An integer with thousands separators: `3,000`, `1,234,567`.
    static func count(_ number: Int64) -> String {
        let digits = String(number.magnitude)
        var out = ""
        for (index, digit) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { out.append(",") }
            out.append(digit)
        }
        return number < 0 ? "-" + out : out
    }

    /// How many terminal columns `text` takes: combining marks none, East Asian wide and emoji characters two.
    static func columns(_ text: some StringProtocol) -> Int {
        text.unicodeScalars.reduce(0) { $0 + columns(of: $1) }
    }

    static func columns(of scalar: Unicode.Scalar) -> Int {
        let value = scalar.value
        if value < 0x300 { return 1 }
        switch scalar.properties.generalCategory {
        case .nonspacingMark, .enclosingMark, .format: return 0
        default: break
        }
        if value == 0x200B { return 0 }
        let wide: [ClosedRange<UInt32>] = [
            0x1100...0x115F, 0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xA000...0xA4CF,
            0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE30...0xFE4F, 0xFF00...0xFF60, 0xFFE0...0xFFE6, 0x1F300...0x1F64F,
            0x1F900...0x1F9FF, 0x20000...0x3FFFD,
        ]
        return wide.contains { $0.contains(value) } ? 2 : 1
    }

    /// `text` cut to at most `width` columns, a cut shown by `…` (`~` in ASCII) as its last column.
    static func cut(_ text: String, to width: Int, unicode: Bool) -> String {
        guard columns(text) > width else { return text }
        guard width > 0 else { return "" }
        var out = ""
        var used = 0
        for character in text {
            let needed = columns(String(character))
            if used + needed > width - 1 { break }
            out.append(character)
            used += needed
        }
        while out.last == " " { out.removeLast() }
        return out + (unicode ? "…" : "~")
    }
}
