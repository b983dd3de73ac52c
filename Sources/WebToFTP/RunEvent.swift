@_spi(Internals) import Reactor

/// One event of a run, as the log has it: every line of the log file is one of these, and an embedder's observer
/// (`Web2FTP.run(observer:)`) hears each of them, on the run's loop thread, in order. Secrets are masked already.
public struct RunEvent: Sendable {
    public enum Level: String, Sendable {
        case info = "INFO"
        case warning = "WARN"
        case error = "ERROR"
        /// Protocol lines (`trace` events): made at all only under `trace`.
        case trace = "TRACE"
    }

    /// A field's value: counts, sizes, durations and codes are integers, everything else text.
    public enum Value: Sendable, Equatable, CustomStringConvertible {
        case text(String)
        case integer(Int64)

        public var description: String {
            switch self {
            case .text(let text): text
            case .integer(let number): "\(number)"
            }
        }
    }

    public struct Field: Sendable, Equatable {
        public var key: String
        public var value: Value

        public init(_ key: String, _ value: Value) {
            self.key = key
            self.value = value
        }
    }

    public var time: LocalTime
    public var level: Level
    /// The source the event is about; nil for the run's own events.
    public var source: String?
    /// What happened: `run`, `start`, `attempt 1/3`, `published`, `failed`, `summary`, … (the README lists them).
    public var name: String
    public var fields: [Field]

    public init(time: LocalTime, level: Level, source: String?, name: String, fields: [Field]) {
        self.time = time
        self.level = level
        self.source = source
        self.name = name
        self.fields = fields
    }

    /// The value of the first field named `key`.
    public subscript(key: String) -> Value? { fields.first { $0.key == key }?.value }

    /// The event as one log line (without the newline): `<local ISO time> <LEVEL> [<source>] <name> key=value …`.
    /// One event, one line: a CR, LF or escape sequence from a server's reply or a file name is shown as `?`, so it
    /// cannot forge another line or drive the operator's terminal.
    public var line: String {
        var line = "\(time.iso8601) \(level.rawValue)"
        if let source { line += " [\(source)]" }
        line += " \(name)"
        for field in fields {
            let value = field.value.description
            let needsQuotes = value.isEmpty || value.containsUTF8(" ") || value.containsUTF8("\"")
            line += " \(field.key)=" + (needsQuotes ? "\"" + value.replacingAll("\"", "'") + "\"" : value)
        }
        if line.unicodeScalars.contains(where: \.isControl) { line = ConfigLoader.printable(line) }
        return line
    }

    /// The event as one JSON object (without the newline), for `--log-format json`: `time`, `level`, `source` (null
    /// for the run's own events), `event`, then the fields in order — an integer field as a JSON number, a text field
    /// as a string whatever it looks like (a digest of digits stays a string). Every control character is escaped,
    /// so one event stays one line and cannot drive a terminal.
    @_spi(Internals) public var jsonLine: String {
        var line = "{\"time\":" + JSONWriter.string(time.iso8601) + ",\"level\":" + JSONWriter.string(level.rawValue)
        line += ",\"source\":" + (source.map(JSONWriter.string) ?? "null") + ",\"event\":" + JSONWriter.string(name)
        for field in fields {
            line += "," + JSONWriter.string(field.key) + ":"
            switch field.value {
            case .integer(let number): line += "\(number)"
            case .text(let text): line += JSONWriter.string(text)
            }
        }
        return line + "}"
    }

    /// The event with every secret replaced by `***` in its text values — only there: the keys, the event's name and
    /// the source's are ours or the config's, and masking a short password inside them garbled the line and told
    /// which word held it (`bad_rows_skipped` → `***_rows_skipped` for the password `bad`).
    func masking(_ secrets: [String]) -> RunEvent {
        guard !secrets.isEmpty else { return self }
        func mask(_ text: String) -> String { secrets.reduce(text) { $0.replacingAll($1, "***") } }
        var masked = self
        masked.fields = fields.map { field in
            guard case .text(let text) = field.value else { return field }
            return Field(field.key, .text(mask(text)))
        }
        return masked
    }
}
