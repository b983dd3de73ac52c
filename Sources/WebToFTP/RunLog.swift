@_spi(Internals) import Reactor

/// The run's log: one event per line, `<local ISO time> <LEVEL> [<source>] <event> key=value …`, appended to the log
/// file and written to stderr. Secrets never reach it: callers pass redacted URLs, and the password is masked here
/// too should it ever appear.
@_spi(Internals) public final class RunLog {
    public enum Level: String {
        case info = "INFO"
        case warning = "WARN"
        case error = "ERROR"
        /// Protocol lines (`trace` events): written at all only under `trace`.
        case trace = "TRACE"
    }

    private var file: File
    private let stderr = File.standardError()
    public let path: String
    private let secrets: [String]
    public var echoToStderr = true
    /// `attempt` lines on stderr too (`-v`).
    public var verbose = false
    /// TRACE events are written — to the file, and to stderr unless `echoToStderr` is off (`-vv`, `--trace`).
    public var trace = false
    /// Called around each line written to stderr, so that a live display can get out of the way and come back.
    public var aroundStderr: ((() -> Void) -> Void)?
    /// Hears the first line that could not be written to the log file (a full disk, a failing device), once per
    /// file: the run goes on, its events still reach stderr, and the caller says so (the CLI: a WARN on stderr).
    public var onWriteFailure: ((FileError) -> Void)?
    private var writeFailureReported = false

    /// Opens (creating, appending) the log file. Fails with the reason when it cannot be written.
    public init(path: String, secrets: [String]) throws(ConfigError) {
        self.path = path
        self.secrets = secrets.filter { !$0.isEmpty }
        do {
            file = try File(path, .append)
        } catch {
            throw ConfigError(problems: ["cannot write the log file \(path): \(error.reason)"])
        }
    }

    /// Reopens the file under its name (after logrotate moved it).
    public func reopen() {
        guard let fresh = try? File(path, .append) else { return }
        file = fresh
        writeFailureReported = false
        event(.info, source: nil, "log_reopened", [("path", path)])
    }

    public func event(_ level: Level, source: String?, _ name: String, _ fields: [(String, String)] = []) {
        if level == .trace && !trace { return }
        let line = format(level, source: source, name, fields)
        do {
            try file.write(line)
        } catch {
            reportWriteFailure(error)
        }
        if echoToStderr && (verbose || trace || level != .info || !name.hasPrefix("attempt")) { toStderr(line) }
    }

    /// A warning for stderr only, whatever `echoToStderr` says: for what the log file itself cannot take.
    public func warnOnStderr(_ name: String, _ fields: [(String, String)]) {
        toStderr(format(.warning, source: nil, name, fields))
    }

    private func format(_ level: Level, source: String?, _ name: String, _ fields: [(String, String)]) -> String {
        var line = "\(LocalTime.now().iso8601) \(level.rawValue)"
        if let source { line += " [\(source)]" }
        line += " \(name)"
        for (key, value) in fields {
            let needsQuotes = value.isEmpty || value.contains(" ") || value.contains("\"")
            line += " \(key)=" + (needsQuotes ? "\"" + value.replacingAll("\"", "'") + "\"" : value)
        }
        for secret in secrets { line = line.replacingAll(secret, "***") }
        // One event, one line: a CR, LF or escape sequence from a server's reply or a file name cannot forge another
        // line or drive the operator's terminal.
        if line.unicodeScalars.contains(where: \.isControl) { line = ConfigLoader.printable(line) }
        return line + "\n"
    }

    private func reportWriteFailure(_ error: FileError) {
        guard !writeFailureReported else { return }
        writeFailureReported = true
        onWriteFailure?(error)
    }

    private func toStderr(_ line: String) {
        // Nowhere left to report a failing stderr.
        if let aroundStderr {
            aroundStderr { try? self.stderr.write(line) }
        } else {
            try? stderr.write(line)
        }
    }
}

extension String {
    func replacingAll(_ target: String, _ replacement: String) -> String {
        guard !target.isEmpty, contains(target) else { return self }
        var out = ""
        var rest = Substring(self)
        while let range = rest.firstRange(of: target) {
            out += rest[..<range.lowerBound]
            out += replacement
            rest = rest[range.upperBound...]
        }
        return out + rest
    }
}
