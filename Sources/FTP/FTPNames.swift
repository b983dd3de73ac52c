@_spi(Internals) import Reactor

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
        self.host = Self.hostPart(host)
        self.processID = processID
        self.unixTime = unixTime
    }

    public var name: String { ".\(finalName).\(kind.rawValue).\(host).\(processID).\(unixTime)" }

    /// A host name as names carry it. Dots stay (the parser reads from the end); anything that could upset a server
    /// or a shell goes.
    public static func hostPart(_ host: String) -> String {
        String(host.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." ? $0 : "_" })
    }

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
        while let range = text[start...].firstUTF8Range(of: needle) {
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
/// that may still be going, and are left alone — except a temporary upload of a killed run of this host: its name
/// carries this host and a process that is not alive here, and it has not changed for ten minutes (the ten minutes
/// protect a live run on another machine that shares the host name). Backups keep the day's rule: one may be the
/// only copy of a file.
@_spi(Internals) public enum FTPLeftovers {
    public enum Step: Equatable, Sendable {
        case delete(String)
        case restore(backup: String, to: String)
    }

    /// This machine, as the quicker rule needs it: its host name, and whether a process id is alive here.
    public struct Here: Sendable {
        public var host: String
        public var isAlive: @Sendable (Int) -> Bool

        public init(host: String, isAlive: @escaping @Sendable (Int) -> Bool) {
            self.host = host
            self.isAlive = isAlive
        }
    }

    /// How long a killed run's temporary upload must have stood unchanged before it goes early.
    public static let killedRunQuietSeconds: Int64 = 600

    /// The temporary uploads in `names` not stale by their name's time that a process of `here` no longer alive
    /// made: their modification time (MDTM) decides whether they go now (see `plan`).
    public static func killedRunParts(names: [String], now: Int64, olderThanSeconds: Int64, here: Here) -> [String] {
        let host = FTPTemporaryName.hostPart(here.host)
        return names.sorted().filter { name in
            guard let parsed = FTPTemporaryName(parsing: name), parsed.kind == .part,
                now - parsed.unixTime < olderThanSeconds
            else { return false }
            return parsed.host == host && !here.isAlive(parsed.processID)
        }
    }

    /// `modified`: the modification times (Unix seconds) of the names `killedRunParts` picked, as far as the server
    /// gave them; a name without one waits for the day's rule.
    public static func plan(
        names: [String], now: Int64, olderThanSeconds: Int64, modified: [String: Int64] = [:]
    ) -> [Step] {
        let present = Set(names)
        var steps: [Step] = []
        for name in names.sorted() {
            guard let parsed = FTPTemporaryName(parsing: name) else { continue }
            let stale = now - parsed.unixTime >= olderThanSeconds
            switch parsed.kind {
            case .part:
                let quiet = modified[name].map { now - $0 >= killedRunQuietSeconds } ?? false
                if stale || quiet { steps.append(.delete(name)) }
            case .backup:
                guard stale else { continue }
                steps.append(
                    present.contains(parsed.finalName) ? .delete(name) : .restore(backup: name, to: parsed.finalName))
            }
        }
        return steps
    }

    /// An MDTM reply's time (RFC 3659 §2.3: `YYYYMMDDHHMMSS[.sss]`, UTC) in Unix seconds; nil for anything else.
    public static func modificationTime(_ reply: FTPReply) -> Int64? {
        guard reply.code == 213 else { return nil }
        let digits = Array(reply.message.trimmingSpaces.prefix { $0 != "." }.utf8)
        guard digits.count == 14, digits.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return nil }
        func number(_ range: Range<Int>) -> Int64 { digits[range].reduce(0) { $0 * 10 + Int64($1 - 48) } }
        let (year, month, day) = (number(0..<4), number(4..<6), number(6..<8))
        let (hour, minute, second) = (number(8..<10), number(10..<12), number(12..<14))
        guard (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61 else { return nil }
        return daysSinceEpoch(year: year, month: month, day: day) * 86_400 + hour * 3600 + minute * 60 + second
    }

    /// Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
    static func daysSinceEpoch(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}

extension String {
    fileprivate var trimmingSpaces: Substring {
        let start = firstIndex { $0 != " " } ?? endIndex
        return self[start...]
    }
}
