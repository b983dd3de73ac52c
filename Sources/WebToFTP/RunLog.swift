import Glibc

/// The run's log: one event per line, `<local ISO time> <LEVEL> [<source>] <event> key=value …`, appended to the log
/// file and written to stderr. Secrets never reach it: callers pass redacted URLs, and the password is masked here
/// too should it ever appear.
public final class RunLog {
    public enum Level: String {
        case info = "INFO"
        case warning = "WARN"
        case error = "ERROR"
        /// Protocol lines (`trace` events): written at all only under `trace`.
        case trace = "TRACE"
    }

    private var fd: Int32
    public let path: String
    private let secrets: [String]
    public var echoToStderr = true
    /// `attempt` lines on stderr too (`-v`).
    public var verbose = false
    /// TRACE events are written — to the file, and to stderr unless `echoToStderr` is off (`-vv`, `--trace`).
    public var trace = false
    /// Called around each line written to stderr, so that a live display can get out of the way and come back.
    public var aroundStderr: ((() -> Void) -> Void)?

    /// Opens (creating, appending) the log file. Fails with the reason when it cannot be written.
    public init(path: String, secrets: [String]) throws(ConfigError) {
        self.path = path
        self.secrets = secrets.filter { !$0.isEmpty }
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw ConfigError(problems: ["cannot write the log file \(path): \(String(cString: strerror(errno)))"])
        }
    }

    deinit { if fd >= 0 { close(fd) } }

    /// Reopens the file under its name (after logrotate moved it).
    public func reopen() {
        let fresh = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fresh >= 0 else { return }
        close(fd)
        fd = fresh
        event(.info, source: nil, "log_reopened", [("path", path)])
    }

    public func event(_ level: Level, source: String?, _ name: String, _ fields: [(String, String)] = []) {
        if level == .trace && !trace { return }
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
        line += "\n"
        write(line, to: fd)
        if echoToStderr && (verbose || trace || level != .info || !name.hasPrefix("attempt")) {
            if let aroundStderr {
                aroundStderr { self.write(line, to: 2) }
            } else {
                write(line, to: 2)
            }
        }
    }

    private func write(_ text: String, to fd: Int32) {
        var text = text
        text.withUTF8 { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
                if written <= 0 { return }
                offset += written
            }
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
