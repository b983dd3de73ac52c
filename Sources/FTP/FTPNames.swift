/// Temporary and backup names for atomic publishing. They carry a fixed marker, the host, the process id and the
/// Unix time, so that leftovers of a crashed run are recognisable and datable:
/// `.sales.csv.web2ftp-part.myhost.4242.1764192000` and `.sales.csv.web2ftp-old.myhost.4242.1764192000`.
@_spi(Internals) public struct FTPTemporaryName: Equatable, Sendable {
    public enum Kind: String, Sendable {
        case part = "web2ftp-part"
        case backup = "web2ftp-old"
    }

    public var finalName: String
    public var kind: Kind
    public var host: String
    public var processID: Int
    public var unixTime: Int64

    public init(finalName: String, kind: Kind, host: String, processID: Int, unixTime: Int64) {
        self.finalName = finalName
        self.kind = kind
        // Dots stay (the parser reads from the end); anything that could upset a server or a shell goes.
        self.host = String(host.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." ? $0 : "_" })
        self.processID = processID
        self.unixTime = unixTime
    }

    public var name: String { ".\(finalName).\(kind.rawValue).\(host).\(processID).\(unixTime)" }

    /// Recognises a name made by `name`; nil for anything else.
    public init?(parsing name: String) {
        guard name.hasPrefix(".") else { return nil }
        for kind in [Kind.part, .backup] {
            let marker = ".\(kind.rawValue)."
            guard let range = Self.lastRange(of: marker, in: name) else { continue }
            let finalName = String(name[name.index(after: name.startIndex)..<range.lowerBound])
            let tail = name[range.upperBound...].split(separator: ".", omittingEmptySubsequences: false)
            guard !finalName.isEmpty, tail.count >= 3, let time = Int64(tail[tail.count - 1]),
                let pid = Int(tail[tail.count - 2])
            else { return nil }
            let host = tail.dropLast(2).joined(separator: ".")
            guard !host.isEmpty else { return nil }
            self.init(finalName: finalName, kind: kind, host: host, processID: pid, unixTime: time)
            return
        }
        return nil
    }

    private static func lastRange(of needle: String, in text: String) -> Range<String.Index>? {
        var found: Range<String.Index>?
        var start = text.startIndex
        while let range = text[start...].firstRange(of: needle) {
            found = range
            start = text.index(after: range.lowerBound)
        }
        return found
    }
}

extension FTPPublishPlan {
    /// A plan with names that say who made them and when (see `FTPTemporaryName`).
    public static func make(
        directory: String, finalName: String, host: String, processID: Int, unixTime: Int64, checkSize: Bool,
        createDirectories: Bool = true
    ) -> FTPPublishPlan {
        let part = FTPTemporaryName(
            finalName: finalName, kind: .part, host: host, processID: processID, unixTime: unixTime)
        var backup = part
        backup.kind = .backup
        return FTPPublishPlan(
            directory: directory, finalName: finalName, temporaryName: part.name, backupName: backup.name,
            checkSize: checkSize, createDirectories: createDirectories)
    }
}

/// What to do about the leftovers in one directory listing: delete stale temporary files, and for a stale backup
/// either put it back (its final name is missing: a swap was interrupted) or delete it. Fresh ones belong to a run
/// that may still be going, and are left alone.
@_spi(Internals) public enum FTPLeftovers {
    public enum Step: Equatable, Sendable {
        case delete(String)
        case restore(backup: String, to: String)
    }

    public static func plan(names: [String], now: Int64, olderThanSeconds: Int64) -> [Step] {
        let present = Set(names)
        var steps: [Step] = []
        for name in names.sorted() {
            guard let parsed = FTPTemporaryName(parsing: name), now - parsed.unixTime >= olderThanSeconds else {
                continue
            }
            switch parsed.kind {
            case .part:
                steps.append(.delete(name))
            case .backup:
                steps.append(
                    present.contains(parsed.finalName) ? .delete(name) : .restore(backup: name, to: parsed.finalName))
            }
        }
        return steps
    }
}
