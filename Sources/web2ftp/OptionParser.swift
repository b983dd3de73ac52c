@_spi(Internals) import CSVStream

/// A message for the user, as an error value.
struct Message: Error {
    let text: String
    init(_ text: String) { self.text = text }
}

/// One option of a command: its spellings (`-o`, `--output`), the value it takes (nil for a flag) as the help
/// names it, and what it does to the command's arguments.
struct Option<Target> {
    let names: [String]
    let value: String?
    let apply: (inout Target, String) throws(Message) -> Void

    /// An option that takes a value: `--config PATH` or `--config=PATH`.
    static func value(
        _ names: String..., as placeholder: String, _ apply: @escaping (inout Target, String) throws(Message) -> Void
    ) -> Option {
        Option(names: names, value: placeholder, apply: apply)
    }

    /// A flag: `--insecure`; single letters cluster (`-vv` is `-v -v`).
    static func flag(_ names: String..., apply: @escaping (inout Target) throws(Message) -> Void) -> Option {
        Option(names: names, value: nil) { (target: inout Target, _: String) throws(Message) in try apply(&target) }
    }
}

/// What a command line asked for: to run with these arguments, or only this command's help, or the version.
enum Parsed<Target> {
    case run(Target)
    case help
    case version
}

/// The command line habits every command shares, in one place: `--name VALUE` and `--name=VALUE`, single-letter
/// flags clustered (`-vv`), `--` ending the options, `-h`/`--help` and `-V`/`--version` everywhere, and an unknown
/// option answered with the nearest known one (`'--confg' — did you mean '--config'?`).
struct OptionParser<Target> {
    let command: String
    let options: [Option<Target>]
    /// Takes each argument that is not an option (`-` included, as stdout or stdin).
    var positional: (inout Target, String) throws(Message) -> Void = { _, word throws(Message) in
        throw Message("unexpected argument '\(word)'")
    }

    init(_ command: String, _ options: [Option<Target>]) {
        self.command = command
        self.options = options
    }

    private func option(named name: String) -> Option<Target>? {
        options.first { $0.names.contains(name) }
    }

    func parse(_ arguments: [String], into start: Target) throws(Message) -> Parsed<Target> {
        var target = start
        var index = 0
        var optionsEnded = false
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            if optionsEnded || argument == "-" || !argument.hasPrefix("-") {
                try positional(&target, argument)
                continue
            }
            if argument == "--" {
                optionsEnded = true
                continue
            }
            if argument == "-h" || argument == "--help" { return .help }
            if argument == "-V" || argument == "--version" { return .version }
            var name = argument
            var attached: String?
            if argument.hasPrefix("--"), let equals = argument.firstIndex(of: "=") {
                name = String(argument[..<equals])
                attached = String(argument[argument.index(after: equals)...])
            }
            if let option = option(named: name) {
                guard let placeholder = option.value else {
                    if attached != nil { throw Message("\(name) takes no value") }
                    try option.apply(&target, "")
                    continue
                }
                if let attached {
                    try option.apply(&target, attached)
                } else {
                    guard index < arguments.count else { throw Message("\(name) needs \(placeholder)") }
                    try option.apply(&target, arguments[index])
                    index += 1
                }
                continue
            }
            // `-vv`, `-qv`: a cluster of single-letter flags, each applied in turn.
            let letters = argument.dropFirst().map { "-\($0)" }
            if !argument.hasPrefix("--"), letters.count > 1,
                case let flags = letters.compactMap({ option(named: $0) }), flags.count == letters.count,
                flags.allSatisfy({ $0.value == nil })
            {
                for flag in flags { try flag.apply(&target, "") }
                continue
            }
            throw unknown(name)
        }
        return .run(target)
    }

    /// `unknown option '--confg' — did you mean '--config'? (see web2ftp manual --help)`.
    func unknown(_ name: String) -> Message {
        let known = options.flatMap(\.names) + ["--help", "--version"]
        let hint = Spelling.hint(for: name, among: known.filter { $0.hasPrefix("--") == name.hasPrefix("--") })
        return Message(
            "unknown option '\(name)'\(hint.map { " — \($0)" } ?? "") (see web2ftp \(command) --help)")
    }
}
