@_spi(Internals) import CSVStream
@_spi(Internals) import HTTP1

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
}

/// Everything wrong with a config or the environment, listed at once: nothing runs until all of it is right.
public struct ConfigError: Error, Sendable, CustomStringConvertible {
    public let problems: [String]
    public var description: String { problems.joined(separator: "\n") }
}

public enum ConfigLoader {
    static let sourceKeys = ["URL", "PARAMS", "TARGET", "HEADERS", "OUTPUT", "RETRIES", "TIMEOUT"]

    /// Parses and validates `text`. `runStart` renders date placeholders, to find two sources with one final path.
    public static func load(_ text: String, runStart: LocalTime) throws(ConfigError) -> [SourceConfig] {
        let document: JSONValue
        do {
            document = try JSONParser.parse(text)
        } catch {
            throw ConfigError(problems: ["config.json is not valid JSON: \(error)"])
        }
        guard case .object(let entries) = document else {
            throw ConfigError(problems: ["config.json must be an object of sources: {\"name\": {\"URL\": ...}}"])
        }
        guard !entries.isEmpty else { throw ConfigError(problems: ["config.json has no sources"]) }
        var problems: [String] = []
        var sources: [SourceConfig] = []
        var paths: [String: String] = [:]
        for (name, value) in entries {
            let before = problems.count
            if let reason = nameProblem(name) { problems.append("source \"\(printable(name))\": \(reason)") }
            guard case .object(let fields) = value else {
                problems.append(
                    "source \"\(printable(name))\": must be an object with URL (and optionally PARAMS …), "
                        + "got \(value.kind)"
                )
                continue
            }
            var url: HTTPURL?
            var params: [String: CSVParam] = [:]
            var output: [String: CSVParam]?
            var target = "{name}.csv"
            var headers = HTTPHeaders()
            var retries: Int?
            var timeout: Double?
            // Names, templates and header names are printed with control characters masked: a CR LF in config.json
            // must not forge lines in the log or on the terminal.
            func problem(_ text: String) { problems.append("source \"\(printable(name))\": \(text)") }
            for (key, field) in fields {
                switch key {
                case "URL":
                    guard case .string(let text) = field else {
                        problem("URL must be a string")
                        continue
                    }
                    do { url = try HTTPURL(text) } catch { problem("\(error)") }
                case "PARAMS", "OUTPUT":
                    guard case .object(let members) = field else {
                        problem("\(key) must be an object")
                        continue
                    }
                    var converted: [String: CSVParam] = [:]
                    for (param, raw) in members {
                        if let value = csvParam(raw) {
                            converted[param] = value
                        } else {
                            problem("\(key).\(param) cannot be \(raw.kind)")
                        }
                    }
                    if key == "PARAMS" { params = converted } else { output = converted }
                case "TARGET":
                    guard case .string(let text) = field else {
                        problem("TARGET must be a string")
                        continue
                    }
                    if let reason = TargetTemplate.problem(text) {
                        problem("TARGET \"\(printable(text))\": \(reason)")
                    } else {
                        target = text
                    }
                case "HEADERS":
                    guard case .object(let members) = field else {
                        problem("HEADERS must be an object of strings")
                        continue
                    }
                    for (header, raw) in members {
                        guard case .string(let text) = raw else {
                            problem("HEADERS.\(printable(header)) must be a string")
                            continue
                        }
                        headers.add(header, text)
                    }
                case "RETRIES":
                    guard case .number(_, let integer?) = field, integer >= 0, integer <= 100 else {
                        problem("RETRIES must be a whole number from 0 to 100")
                        continue
                    }
                    retries = integer
                case "TIMEOUT":
                    guard case .number(let seconds, _) = field, seconds > 0 else {
                        problem("TIMEOUT must be a number of seconds > 0")
                        continue
                    }
                    timeout = seconds
                default:
                    problem("unknown key \"\(key)\" (known: \(sourceKeys.joined(separator: ", ")))")
                }
            }
            if !fields.contains(where: { $0.key == "URL" }) { problem("URL is missing") }
            var csv = CSVOptions()
            do {
                csv = try CSVOptions(params: params, output: output)
            } catch {
                for text in error.problems { problem(text) }
            }
            for (header, value) in headers where !ASCIIHeader.valid(header, value) {
                problem("HEADERS.\(printable(header)) is not a valid header (name must be a token; no line breaks)")
            }
            guard problems.count == before, let url else { continue }
            let path = TargetPath(template: target, source: name, under: "", at: runStart).full
            if let other = paths[path] {
                problems.append("sources \"\(other)\" and \"\(name)\" would both publish \(path)")
                continue
            }
            paths[path] = name
            sources.append(
                SourceConfig(
                    name: name, url: url, csv: csv, target: target, headers: headers, retries: retries,
                    idleTimeoutSeconds: timeout))
        }
        guard problems.isEmpty else { throw ConfigError(problems: problems) }
        return sources
    }

    static func nameProblem(_ name: String) -> String? {
        if name.isEmpty { return "the name is empty" }
        if name.contains("/") { return "the name must not contain '/'" }
        if name.contains("..") { return "the name must not contain '..'" }
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
        if template.hasPrefix("/") { return "must be relative to FTPTARGET (no leading '/')" }
        if template.split(separator: "/").contains("..") { return "must not contain '..'" }
        if template.hasSuffix("/") { return "must name a file, not a directory" }
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
