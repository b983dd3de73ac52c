import Foundation

/// The comparison's results: one table (medians with min–max) plus ratios to the baseline contender, as text and
/// as Markdown for the README.
struct Report {
    struct Case {
        let name: String
        let bytes: Int
        let files: Int?
        let baseline: String
        let order: [String]
        let samples: [String: [Sample]]
        let failures: [String: String]
    }

    var machine = ""
    var cases: [Case] = []
    var notes: [String] = []

    mutating func add(_ item: Case) { cases.append(item) }

    struct Row {
        var cells: [String]
    }

    static let header = [
        "case", "contender", "runs", "MB/s median (min–max)", "ms/file", "client CPU s", "peak RSS MiB", "speed ×",
        "CPU ×",
    ]

    func rows() -> [Row] {
        var rows: [Row] = []
        for item in cases {
            let base = item.samples[item.baseline].map { Measure.median($0.map(\.wall)) }
            let baseCPU = item.samples[item.baseline].map { Measure.median($0.map(\.cpu)) }
            for label in item.order {
                guard let samples = item.samples[label], !samples.isEmpty else {
                    rows.append(
                        Row(cells: [
                            item.name, label, "0", "failed: \(item.failures[label]?.prefix(80) ?? "")", "", "", "", "",
                            "",
                        ]))
                    continue
                }
                let walls = samples.map(\.wall)
                let rate = { (wall: Double) in Double(item.bytes) / wall / 1e6 }
                let wall = Measure.median(walls)
                let cpu = Measure.median(samples.map(\.cpu))
                let rss = Measure.median(samples.map { Double($0.rssKiB) / 1024 })
                let perFile = item.files.map { String(format: "%.1f", wall * 1000 / Double($0)) } ?? ""
                let isBase = label == item.baseline
                rows.append(
                    Row(cells: [
                        item.name, label, "\(samples.count)",
                        String(format: "%.0f (%.0f–%.0f)", rate(wall), rate(walls.max()!), rate(walls.min()!)),
                        perFile, String(format: "%.2f", cpu), String(format: "%.1f", rss),
                        isBase ? "1" : base.map { String(format: "%.2f", $0 / wall) } ?? "",
                        isBase ? "1" : baseCPU.map { String(format: "%.2f", cpu / $0) } ?? "",
                    ]))
            }
        }
        return rows
    }

    func text() -> String {
        let all = [Report.header] + rows().map(\.cells)
        var widths = [Int](repeating: 0, count: Report.header.count)
        for cells in all { for (index, cell) in cells.enumerated() { widths[index] = max(widths[index], cell.count) } }
        var out = "\nweb2ftp benchmark — \(machine)\n"
        out +=
            "speed × = baseline's median wall ÷ this one's (higher is faster); CPU × = this one's client CPU ÷ baseline's\n"
        for cells in all {
            out +=
                cells.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(
                    separator: "  ") + "\n"
        }
        for note in notes { out += "- \(note)\n" }
        return out
    }

    func markdown() -> String {
        var out =
            "Measured \(Self.today()) on \(machine) (loopback; a shared 2-core VM: noisy, compare ratios within one run).\n"
        out += "Baseline of each case: `curl | curl`, the curl loop, `xargs -P 4` curl pipelines, or `mlr`. "
        out += "Speed × = baseline's median wall time ÷ this one's; CPU × = this one's client CPU ÷ the baseline's.\n\n"
        out += "| " + Report.header.joined(separator: " | ") + " |\n"
        out += "|" + Report.header.map { _ in "---" }.joined(separator: "|") + "|\n"
        var last = ""
        for row in rows() {
            var cells = row.cells
            if cells[0] == last { cells[0] = "" } else { last = cells[0] }
            out += "| " + cells.joined(separator: " | ") + " |\n"
        }
        out += "\n" + notes.map { "- \($0)\n" }.joined()
        return out
    }

    static func today() -> String {
        var now = time(nil)
        var parts = tm()
        gmtime_r(&now, &parts)
        return String(format: "%04d-%02d-%02d", parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday)
    }
}
