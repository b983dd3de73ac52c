@_spi(Internals) import Reactor

/// The run's events, handed to its observers: the parts of a run report here (`event`), and each observer hears
/// every event, on the loop thread, secrets masked. The log file is one observer (`LogLines`, given a path); an
/// embedder's is another (`Web2FTP.run(observer:)`). The password is masked here should it ever appear: callers pass
/// redacted URLs already.
@_spi(Internals) public final class RunLog {
    public typealias Level = RunEvent.Level

    private let lines: LogLines
    private let secrets: [String]
    private var observers: [(RunEvent) -> Void] = []
    /// TRACE events are made at all (`-vv`, `--trace`): written to the file, to stderr unless `echoToStderr` is off,
    /// and handed to the observers.
    public var trace = false {
        didSet { lines.trace = trace }
    }

    /// Opens (creating, appending) the log file at `path`; nil writes no file (stderr only, if `echoToStderr`).
    /// Fails with the reason when the file cannot be written.
    public init(path: String?, secrets: [String]) throws(ConfigError) {
        self.secrets = secrets.filter { !$0.isEmpty }
        lines = try LogLines(path: path)
        observers = [lines.write]
    }

    /// Adds an observer, which hears every event from now on, after the log file.
    public func addObserver(_ observer: @escaping (RunEvent) -> Void) {
        observers.append(observer)
    }

    /// `--log-format json`: each line a JSON object (`RunEvent.jsonLine`), in the file and on stderr.
    public var json: Bool {
        get { lines.json }
        set { lines.json = newValue }
    }

    /// The log file's path; nil when there is none.
    public var path: String? { lines.path }

    public var echoToStderr: Bool {
        get { lines.echoToStderr }
        set { lines.echoToStderr = newValue }
    }

    /// `--quiet`: only WARN and ERROR lines reach stderr (as `curl -sS` and `rclone -q` keep errors): a failed run
    /// under systemd must still say why in the journal.
    public var quiet: Bool {
        get { lines.quiet }
        set { lines.quiet = newValue }
    }

    /// `attempt` lines on stderr too (`-v`).
    public var verbose: Bool {
        get { lines.verbose }
        set { lines.verbose = newValue }
    }

    /// Called around each line written to stderr, so that a live display can get out of the way and come back.
    public var aroundStderr: ((() -> Void) -> Void)? {
        get { lines.aroundStderr }
        set { lines.aroundStderr = newValue }
    }

    /// Hears the first line that could not be written to the log file (a full disk, a failing device), once per
    /// file: the run goes on, its events still reach stderr and the other observers, and the caller says so (the
    /// CLI: a WARN on stderr; `Web2FTP.run`: a `log_write_failed` event to its observer).
    public var onWriteFailure: ((FileError) -> Void)? {
        get { lines.onWriteFailure }
        set { lines.onWriteFailure = newValue }
    }

    /// Reopens the file under its name (after logrotate moved it).
    public func reopen() {
        guard let path = lines.path, lines.reopen() else { return }
        event(.info, source: nil, "log_reopened", [("path", path)])
    }

    public func event(_ level: Level, source: String?, _ name: String, _ fields: [(String, String)] = []) {
        event(level, source: source, name, fields.map { RunEvent.Field($0.0, .text($0.1)) })
    }

    public func event(_ level: Level, source: String?, _ name: String, _ fields: [RunEvent.Field]) {
        if level == .trace && !trace { return }
        let event = RunEvent(time: LocalTime.now(), level: level, source: source, name: name, fields: fields)
            .masking(secrets)
        for observer in observers { observer(event) }
    }

    /// A warning for stderr only, whatever `echoToStderr` says: for what the log file itself cannot take.
    public func warnOnStderr(_ name: String, _ fields: [(String, String)]) {
        let event = RunEvent(
            time: LocalTime.now(), level: .warning, source: nil, name: name,
            fields: fields.map { RunEvent.Field($0.0, .text($0.1)) })
        lines.toStderr(event.masking(secrets))
    }
}

/// The observer that writes events as lines: appended to the log file (when there is one) and echoed to stderr.
final class LogLines {
    private var file: File?
    private let stderr = File.standardError()
    let path: String?
    var echoToStderr = true
    var json = false
    var quiet = false
    var verbose = false
    /// Under trace, `attempt` lines reach stderr too, as under `verbose`.
    var trace = false
    var aroundStderr: ((() -> Void) -> Void)?
    var onWriteFailure: ((FileError) -> Void)?
    private var writeFailureReported = false

    init(path: String?) throws(ConfigError) {
        self.path = path
        guard let path else { return }
        do {
            file = try File(path, .append)
        } catch {
            throw ConfigError(["cannot write the log file \(path): \(error.reason)"])
        }
    }

    /// Opens the file under its name again; false when there is no file or it cannot be opened.
    func reopen() -> Bool {
        guard let path, let fresh = try? File(path, .append) else { return false }
        file = fresh
        writeFailureReported = false
        return true
    }

    func write(_ event: RunEvent) {
        let line = format(event)
        if let file {
            do {
                try file.write(line)
            } catch {
                reportWriteFailure(error)
            }
        }
        if echoToStderr && showsOnStderr(event) { writeToStderr(line) }
    }

    private func showsOnStderr(_ event: RunEvent) -> Bool {
        switch event.level {
        case .warning, .error: return true
        case .trace: return !quiet
        case .info: return !quiet && (verbose || trace || !event.name.hasPrefix("attempt"))
        }
    }

    func toStderr(_ event: RunEvent) { writeToStderr(format(event)) }

    private func format(_ event: RunEvent) -> String {
        // Masked already (`RunEvent.masking`: the text values, the only place a secret can come from).
        (json ? event.jsonLine : event.line) + "\n"
    }

    private func reportWriteFailure(_ error: FileError) {
        guard !writeFailureReported else { return }
        writeFailureReported = true
        onWriteFailure?(error)
    }

    private func writeToStderr(_ line: String) {
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
        guard !target.isEmpty, containsUTF8(target) else { return self }
        var out = ""
        var rest = Substring(self)
        while let range = rest.firstUTF8Range(of: target) {
            out += rest[..<range.lowerBound]
            out += replacement
            rest = rest[range.upperBound...]
        }
        return out + rest
    }
}
