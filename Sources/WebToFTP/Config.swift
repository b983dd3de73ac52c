@_spi(Internals) import CSVStream
@_spi(Internals) import Compression
@_spi(Internals) import HTTP1
@_spi(Internals) import Reactor

/// One source of `config.json`: `{"name": {"URL": "...", "PARAMS": {...}, ...}}`.
public struct SourceConfig: Sendable {
    public let name: String
    public let url: HTTPURL
    public let csv: CSVOptions
    /// The remote file name template, relative to FTPTARGET: `{name}` and `{date:%Y%m%d}` placeholders.
    public let target: String
    public let headers: HTTPHeaders
    public let retries: Int?
    /// Idle timeout in seconds (no byte for that long fails the attempt).
    public let idleTimeoutSeconds: Double?
    /// PARAMS `compression`: how the body itself is compressed (default: inferred from the URL's suffix). Checked
    /// when the run starts, as the config loader checks it (`.infer` on a `.bz2` URL is refused, say).
    public var compression: CompressionSetting = .infer
    /// OUTPUT `compression`: gzip the published file (default: when the rendered TARGET ends in `.gz`); only gzip is
    /// supported, checked when the run starts.
    public var outputCompression: CompressionSetting = .infer
    /// MAX_BYTES: the most decoded bytes the body may have (before the CSV transform; more fails the source for
    /// good); nil: no limit for an identity body, 100 GiB for a decompressed one. 0 is refused when the run starts.
    public var maxBytes: UInt64?
    /// SKIP_UNCHANGED: false publishes on every run, even when the source has not changed since the last
    /// publication (for consumers that act on every upload).
    public var skipUnchanged = true
    /// PARAMS and OUTPUT as the config wrote them (compact JSON): part of the state file's fingerprint.
    @_spi(Internals) public var settingsText: String?

    /// A source built in code, checked as the config loader checks one (a name or TARGET with CR/LF or `..`, headers
    /// that are not headers, RETRIES or TIMEOUT out of range, CSV options PARAMS would refuse): every problem listed.
    /// A set of sources is checked as a whole (two sources publishing one path) when it runs.
    public init(
        name: String, url: HTTPURL, csv: CSVOptions = CSVOptions(), target: String = "{name}.csv",
        headers: HTTPHeaders = HTTPHeaders(), retries: Int? = nil, idleTimeoutSeconds: Double? = nil
    ) throws(ConfigError) {
        self.init(
            checked: name, url: url, csv: csv, target: target, headers: headers, retries: retries,
            idleTimeoutSeconds: idleTimeoutSeconds)
        let problems = self.problems
        guard problems.isEmpty else { throw ConfigError(problems: problems) }
    }

    /// The loader's: its checks have run.
    init(
        checked name: String, url: HTTPURL, csv: CSVOptions, target: String, headers: HTTPHeaders, retries: Int?,
        idleTimeoutSeconds: Double?
    ) {
        self.name = name
        self.url = url
        self.csv = csv
        self.target = target
        self.headers = headers
        self.retries = retries
        self.idleTimeoutSeconds = idleTimeoutSeconds
    }

    /// What the loader would refuse in this source, worded as it words it.
    var problems: [ConfigProblem] {
        var problems: [ConfigProblem] = []
        func problem(_ key: String?, _ text: String) { problems.append(ConfigProblem(source: name, key: key, text)) }
        if let reason = ConfigLoader.nameProblem(name) { problem(nil, reason) }
        if let reason = TargetTemplate.problem(target) {
            problem("TARGET", "TARGET \"\(ConfigLoader.printable(target))\": \(reason)")
        }
        for (header, value) in headers.fields where !ASCIIHeader.valid(header, value) {
            problem(
                "HEADERS",
                "HEADERS.\(ConfigLoader.printable(header)) is not a valid header (name must be a token; no line breaks)"
            )
        }
        if let retries, !(0...100).contains(retries) {
            problem("RETRIES", "RETRIES must be a whole number from 0 to 100")
        }
        if let seconds = idleTimeoutSeconds, !(seconds > 0) {
            problem("TIMEOUT", "TIMEOUT must be a number of seconds > 0")
        }
        if maxBytes == 0 { problem("MAX_BYTES", "MAX_BYTES must be a whole number of bytes > 0") }
        do { try csv.validate() } catch { for text in error.problems { problem("PARAMS", text) } }
        for (key, message) in CompressionRule.problems(
            compression, urlPath: url.path, output: outputCompression, target: target)
        {
            problem(key, message)
        }
        return problems
    }

    /// What is wrong with a set of sources that each source alone cannot show: two sources with one name, or one
    /// final path (`runStart` renders the date placeholders).
    static func setProblems(_ sources: [SourceConfig], runStart: LocalTime) -> [ConfigProblem] {
        var problems: [ConfigProblem] = []
        var names: Set<String> = []
        var paths: [String: String] = [:]
        for source in sources {
            if !names.insert(source.name).inserted {
                problems.append(ConfigProblem(source: source.name, key: nil, "two sources have this name"))
                continue
            }
            let path = TargetPath(template: source.target, source: source.name, under: "", at: runStart).full
            if let other = paths[path] {
                problems.append(
                    ConfigProblem(
                        source: source.name, key: "TARGET",
                        text: "sources \"\(other)\" and \"\(source.name)\" would both publish \(path)"))
                continue
            }
            paths[path] = source.name
        }
        return problems
    }
}

/// One thing wrong with a config, the environment or values built in code. `description` is the text the CLI prints.
public struct ConfigProblem: Sendable, Equatable, CustomStringConvertible {
    /// The source it is about, when it is about one.
    public var source: String?
    /// The key (`URL`, `TARGET`, `PARAMS`, `FTPHOST`, …), when one is to blame.
    public var key: String?
    /// Where in config.json: the key to blame (else its source), or where the JSON itself could not be read.
    public var line: Int?
    public var column: Int?
    /// What is wrong, without the source's name.
    public var message: String
    public let description: String

    /// A problem of `source`: printed `source "<name>": <message>`, the name's control characters masked.
    public init(source: String?, key: String?, line: Int? = nil, column: Int? = nil, _ message: String) {
        self.init(
            source: source, key: key, line: line, column: column, message: message,
            text: source.map { "source \"\(ConfigLoader.printable($0))\": \(message)" } ?? message)
    }

    /// A problem whose printed text is given whole.
    init(source: String?, key: String?, line: Int? = nil, column: Int? = nil, message: String? = nil, text: String) {
        self.source = source
        self.key = key
        self.line = line
        self.column = column
        self.message = message ?? text
        description = text
    }
}

/// Everything wrong with a config or the environment, listed at once: nothing runs until all of it is right.
public struct ConfigError: Error, Sendable, CustomStringConvertible {
    public let problems: [ConfigProblem]
    /// Each problem as the CLI prints it.
    public var messages: [String] { problems.map(\.description) }
    public var description: String { messages.joined(separator: "\n") }

    public init(problems: [ConfigProblem]) { self.problems = problems }

    /// Problems not about one source or key.
    init(_ messages: [String]) { problems = messages.map { ConfigProblem(source: nil, key: nil, text: $0) } }
}

public enum ConfigLoader {
    static let sourceKeys = [
        "URL", "PARAMS", "TARGET", "HEADERS", "OUTPUT", "RETRIES", "TIMEOUT", "MAX_BYTES", "SKIP_UNCHANGED",
    ]

    /// Parses and validates `text`. `runStart` renders date placeholders, to find two sources with one final path.
    public static func load(_ text: String, runStart: LocalTime) throws(ConfigError) -> [SourceConfig] {
        try load(text, named: "config.json", runStart: runStart)
    }

    /// As `load(_:runStart:)`, the file called `fileName` in the messages that are about the file as a whole (the CLI
    /// passes the path it read: an operator with several configs sees which one).
    @_spi(Internals) public static func load(
        _ text: String, named fileName: String, runStart: LocalTime
    ) throws(ConfigError) -> [SourceConfig] {
        let document: JSONValue
        let positions: [[String]: (line: Int, column: Int)]
        do {
            (document, positions) = try JSONParser.parseWithPositions(text)
        } catch {
            throw ConfigError(problems: [
                ConfigProblem(
                    source: nil, key: nil, line: error.line, column: error.column,
                    message: "not valid JSON: \(error.reason)", text: "\(fileName) is not valid JSON: \(error)")
            ])
        }
        guard case .object(let entries) = document else {
            throw ConfigError(["\(fileName) must be an object of sources: {\"name\": {\"URL\": ...}}"])
        }
        guard !entries.isEmpty else { throw ConfigError(["\(fileName) has no sources"]) }
        var problems: [ConfigProblem] = []
        var sources: [SourceConfig] = []
        for (name, value) in entries {
            let before = problems.count
            // Where the key is, else where the source is: URL missing points at the source.
            func located(_ key: String?, _ text: String) -> ConfigProblem {
                let at = key.flatMap { positions[[name, $0]] } ?? positions[[name]]
                return ConfigProblem(source: name, key: key, line: at?.line, column: at?.column, text)
            }
            if let reason = nameProblem(name) { problems.append(located(nil, reason)) }
            guard case .object(let fields) = value else {
                problems.append(
                    located(nil, "must be an object with URL (and optionally PARAMS …), got \(value.kind)"))
                continue
            }
            var url: HTTPURL?
            var params: [String: CSVParam] = [:]
            var output: [String: CSVParam]?
            var target = "{name}.csv"
            var headers = HTTPHeaders()
            var retries: Int?
            var timeout: Double?
            var compression = CompressionSetting.infer
            var outputCompression = CompressionSetting.infer
            var maxBytes: UInt64?
            var skipUnchanged = true
            var settings: [String] = []
            // Names, templates and header names are printed with control characters masked: a CR LF in config.json
            // must not forge lines in the log or on the terminal.
            func problem(_ key: String, _ text: String) { problems.append(located(key, text)) }
            for (key, field) in fields {
                switch key {
                case "URL":
                    guard case .string(let text) = field else {
                        problem(key, "URL must be a string")
                        continue
                    }
                    do { url = try HTTPURL(text) } catch { problem(key, "\(error)") }
                case "PARAMS", "OUTPUT":
                    guard case .object(let members) = field else {
                        problem(key, "\(key) must be an object")
                        continue
                    }
                    settings.append("\(key)=\(field.compactText)")
                    var converted: [String: CSVParam] = [:]
                    for (param, raw) in members {
                        if let value = csvParam(raw) {
                            converted[param] = value
                        } else {
                            problem(key, "\(key).\(param) cannot be \(raw.kind)")
                        }
                    }
                    // `compression` is the body's (or the published file's), not the CSV transform's.
                    if let value = converted.removeValue(forKey: "compression") {
                        switch key == "PARAMS" ? CompressionConfig.source(value) : CompressionConfig.output(value) {
                        case .success(let setting):
                            if key == "PARAMS" { compression = setting } else { outputCompression = setting }
                        case .failure(let error): problem(key, error.text)
                        }
                        if key == "OUTPUT" && converted.isEmpty { continue }
                    }
                    if key == "PARAMS" { params = converted } else { output = converted }
                case "TARGET":
                    guard case .string(let text) = field else {
                        problem(key, "TARGET must be a string")
                        continue
                    }
                    if let reason = TargetTemplate.problem(text) {
                        problem(key, "TARGET \"\(printable(text))\": \(reason)")
                    } else {
                        target = text
                    }
                case "HEADERS":
                    guard case .object(let members) = field else {
                        problem(key, "HEADERS must be an object of strings")
                        continue
                    }
                    for (header, raw) in members {
                        guard case .string(let text) = raw else {
                            problem(key, "HEADERS.\(printable(header)) must be a string")
                            continue
                        }
                        headers.add(header, text)
                    }
                case "RETRIES":
                    guard case .number(_, let integer?) = field, integer >= 0, integer <= 100 else {
                        problem(key, "RETRIES must be a whole number from 0 to 100")
                        continue
                    }
                    retries = integer
                case "TIMEOUT":
                    guard case .number(let seconds, _) = field, seconds > 0 else {
                        problem(key, "TIMEOUT must be a number of seconds > 0")
                        continue
                    }
                    timeout = seconds
                case "MAX_BYTES":
                    guard let bytes = CompressionConfig.maxBytes(field) else {
                        problem(key, "MAX_BYTES must be a whole number of bytes > 0")
                        continue
                    }
                    maxBytes = bytes
                case "SKIP_UNCHANGED":
                    guard case .bool(let value) = field else {
                        problem(key, "SKIP_UNCHANGED must be true or false")
                        continue
                    }
                    skipUnchanged = value
                default:
                    let hint = Spelling.suggestion(for: key, among: sourceKeys).map { " — did you mean \"\($0)\"?" }
                    problem(key, "unknown key \"\(key)\"" + (hint ?? " (known: \(sourceKeys.joined(separator: ", ")))"))
                }
            }
            if !fields.contains(where: { $0.key == "URL" }) { problem("URL", "URL is missing") }
            var csv = CSVOptions()
            do {
                csv = try CSVOptions(params: params, output: output)
            } catch {
                for text in error.problems { problem("PARAMS", text) }
            }
            for (header, value) in headers.fields where !ASCIIHeader.valid(header, value) {
                problem(
                    "HEADERS",
                    "HEADERS.\(printable(header)) is not a valid header (name must be a token; no line breaks)")
            }
            guard problems.count == before, let url else { continue }
            var source = SourceConfig(
                checked: name, url: url, csv: csv, target: target, headers: headers, retries: retries,
                idleTimeoutSeconds: timeout)
            source.compression = compression
            source.outputCompression = outputCompression
            source.maxBytes = maxBytes
            source.skipUnchanged = skipUnchanged
            source.settingsText = settings.sorted().joined(separator: ";")
            for (key, message) in CompressionRule.problems(
                compression, urlPath: url.path, output: outputCompression, target: target)
            {
                problem(key, message)
            }
            guard problems.count == before else { continue }
            sources.append(source)
        }
        problems += SourceConfig.setProblems(sources, runStart: runStart).map { problem in
            var problem = problem
            let at = problem.source.flatMap { positions[[$0, problem.key ?? ""]] ?? positions[[$0]] }
            (problem.line, problem.column) = (at?.line, at?.column)
            return problem
        }
        guard problems.isEmpty else { throw ConfigError(problems: problems) }
        return sources
    }

    static func nameProblem(_ name: String) -> String? {
        if name.isEmpty { return "the name is empty" }
        if name.containsUTF8("/") { return "the name must not contain '/'" }
        if name.containsUTF8("..") { return "the name must not contain '..'" }
        if name.hasPrefix(".") { return "the name must not start with '.'" }
        if name.unicodeScalars.contains(where: \.isControl) { return "the name has control characters" }
        return nil
    }

    /// `text` with every control character (ESC, CR, LF …) shown as `?`: what a server sent reaches a terminal or a
    /// log line without driving the one or forging the other.
    @_spi(Internals) public static func printable(_ text: String) -> String {
        String(text.unicodeScalars.map { $0.isControl ? "?" : Character($0) })
    }

    static func csvParam(_ value: JSONValue) -> CSVParam? {
        switch value {
        case .string(let text): return .string(text)
        case .number(let number, let integer): return integer.map { .integer($0) } ?? .number(number)
        case .bool(let flag): return .bool(flag)
        case .null: return .null
        case .array(let items):
            let converted = items.compactMap(csvParam)
            return converted.count == items.count ? .array(converted) : nil
        case .object(let members):
            var converted: [String: CSVParam] = [:]
            for (key, member) in members {
                guard let value = csvParam(member) else { return nil }
                converted[key] = value
            }
            return .object(converted)
        }
    }
}

extension Unicode.Scalar {
    /// C0 controls and DEL: CR, LF and NUL among them, which would end or split an FTP command or a log line.
    var isControl: Bool { value < 32 || value == 127 }
}

enum ASCIIHeader {
    static func valid(_ name: String, _ value: String) -> Bool {
        (try? HTTPRequestEncoder.encode(
            method: "GET", target: "/", authority: "h", userAgent: "u", headers: HTTPHeaders([(name, value)]))) != nil
    }
}

/// `TARGET` templates: `{name}` and `{date:FORMAT}` (strftime subset %Y %m %d %H %M %S %%), relative paths only.
@_spi(Internals) public enum TargetTemplate {
    public static func problem(_ template: String) -> String? {
        if template.isEmpty { return "empty" }
        // Bytes, not Characters: "/" followed by a combining mark is one Character, yet the server sees a '/'.
        let slash = UInt8(ascii: "/")
        if template.utf8.first == slash { return "must be relative to FTPTARGET (no leading '/')" }
        if template.utf8.split(separator: slash).contains(where: { $0.elementsEqual("..".utf8) }) {
            return "must not contain '..'"
        }
        if template.utf8.last == slash { return "must name a file, not a directory" }
        if template.unicodeScalars.contains(where: \.isControl) { return "has control characters" }
        var rest = Substring(template)
        while let open = rest.firstIndex(of: "{") {
            guard let close = rest[open...].firstIndex(of: "}") else { return "unclosed '{'" }
            let placeholder = rest[rest.index(after: open)..<close]
            if placeholder != "name" && !placeholder.hasPrefix("date:") {
                return "unknown placeholder {\(placeholder)} (known: {name}, {date:%Y%m%d})"
            }
            rest = rest[rest.index(after: close)...]
        }
        return nil
    }

    public static func render(_ template: String, name: String, time: LocalTime) -> String {
        var out = ""
        var rest = Substring(template)
        while let open = rest.firstIndex(of: "{"), let close = rest[open...].firstIndex(of: "}") {
            out += rest[..<open]
            let placeholder = rest[rest.index(after: open)..<close]
            if placeholder == "name" {
                out += name
            } else {
                out += time.format(String(placeholder.dropFirst(5)))
            }
            rest = rest[rest.index(after: close)...]
        }
        return out + rest
    }
}

extension CompressionRule {
    /// The compression settings' problems as (key, message): one check for a source from JSON and one built in code.
    static func problems(
        _ compression: CompressionSetting, urlPath: String, output: CompressionSetting, target: String
    ) -> [(String, String)] {
        var found: [(String, String)] = []
        do {
            _ = try expected(compression, urlPath: urlPath)
        } catch {
            found.append(("PARAMS", error.message))
        }
        do {
            _ = try outputIsGzip(output, target: target)
        } catch {
            found.append(("OUTPUT", error.message))
        }
        return found
    }
}
