import Foundation
@_spi(Internals) import TestSupport
import Testing

@testable import web2ftp

/// The man page (docs/web2ftp.1) and the completions (contrib/completions) say what `web2ftp help COMMAND` says: the
/// binary's own per-command help is the list of options, and each document is compared with it both ways.
@Suite("The man page and the bash and zsh completions, kept in step with each command's --help")
struct OperatorDocsTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let commands = ["manual", "schedule", "check", "preview", "get", "next-run"]
    static let manPage = root.appendingPathComponent("docs/web2ftp.1").path
    static let bashCompletion = root.appendingPathComponent("contrib/completions/web2ftp.bash").path
    static let zshCompletion = root.appendingPathComponent("contrib/completions/_web2ftp").path

    /// One spelling of an option in a help text: whether it takes a value (`--config PATH`), and the command it
    /// belongs to when its description starts with one (`--at …  schedule: run at …` is listed under manual too).
    struct HelpOption: Equatable {
        var takesValue: Bool
        var only: String?
    }

    // MARK: reading each document

    /// The options of a help text's OPTIONS section: on each line indented by two spaces, every column (separated by
    /// two or more spaces) that starts with `-` lists spellings (`-o, --output FILE`, `-vv, -v -v, --trace`).
    static func helpOptions(_ help: String) -> [String: HelpOption] {
        var options: [String: HelpOption] = [:]
        var inOptions = false
        for line in help.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if !line.hasPrefix(" ") && !line.isEmpty { inOptions = line.hasPrefix("OPTIONS") }
            guard inOptions, line.hasPrefix("  -") else { continue }
            let columns = line.trimmingCharacters(in: .whitespaces).split(separator: try! Regex(#"\s{2,}"#))
                .map(String.init)
            for (index, column) in columns.enumerated() where column.hasPrefix("-") {
                let spellings = column.components(separatedBy: ", ").map { $0.split(separator: " ").map(String.init) }
                let takesValue = spellings.last.map { $0.count > 1 && !$0[1].hasPrefix("-") } ?? false
                let description = index + 1 < columns.count ? columns[index + 1] : ""
                let only = commands.first { description.hasPrefix("\($0):") }
                for words in spellings { options[words[0]] = HelpOption(takesValue: takesValue, only: only) }
            }
        }
        return options
    }

    /// `web2ftp help COMMAND`'s options, from the binary.
    static func helpOptions(of command: String) throws -> [String: HelpOption] {
        let run = try runProduct("web2ftp", ["help", command])
        guard run.status == 0 else { throw TestFailure("web2ftp help \(command): exit \(run.status): \(run.error)") }
        return helpOptions(run.output)
    }

    /// What a command's completion offers: its help's options less those its description gives to another command.
    static func completable(_ options: [String: HelpOption], of command: String) -> Set<String> {
        Set(options.filter { $0.value.only == nil || $0.value.only == command }.keys)
    }

    /// A roff line as text: a macro's arguments joined (`.BR \-q ", " \-\-quiet` is `-q, --quiet`), escapes gone.
    static func deroff(_ line: String) -> String {
        var text = line
        if text.hasPrefix(".") {
            var arguments: [String] = []
            var current = ""
            var quoted = false
            for character in text.drop(while: { $0 != " " }) {
                if character == "\"" {
                    quoted.toggle()
                } else if character == " " && !quoted {
                    if !current.isEmpty { arguments.append(current) }
                    current = ""
                } else {
                    current.append(character)
                }
            }
            if !current.isEmpty { arguments.append(current) }
            // The font-alternating macros (.BR, .IR, .BI …) join their arguments; the others (.SH, .B) space them.
            let alternating = text.count > 3 && text.dropFirst().prefix(2).allSatisfy("BIR".contains)
            text = arguments.joined(separator: alternating ? "" : " ")
        }
        for (escape, plain) in [("\\-", "-"), ("\\(lq", "\""), ("\\(rq", "\""), ("\\&", ""), ("\\%", ""), ("\\c", "")] {
            text = text.replacingOccurrences(of: escape, with: plain)
        }
        return text.replacingOccurrences(of: #"\\f[BIRP]"#, with: "", options: .regularExpression)
    }

    /// The man page's sections (`.SH`) and, under OPTIONS, each `.SS` subsection's commands and the options its
    /// `.TP` tags name (`-vv, -v -v, --trace` names -vv, -v and --trace).
    struct ManPage {
        var options: [String: Set<String>] = [:]
        var sections: [String: [String]] = [:]
        var version = ""

        init(_ roff: String) {
            var section = ""
            var subsectionCommands: [String] = []
            var nextIsTag = false
            for line in roff.split(separator: "\n").map(String.init) {
                if line.hasPrefix(".TH ") {
                    version =
                        line.firstMatch(of: try! Regex(#""web2ftp ([0-9.]+)""#))
                        .flatMap { $0.output[1].substring.map(String.init) } ?? ""
                } else if line.hasPrefix(".SH ") {
                    section = OperatorDocsTests.deroff(line)
                    sections[section] = []
                    subsectionCommands = []
                } else if line.hasPrefix(".SS ") {
                    let words = OperatorDocsTests.deroff(line).split(separator: " ").map(String.init)
                    subsectionCommands = OperatorDocsTests.commands.filter(words.contains)
                } else if line == ".TP" {
                    nextIsTag = true
                    continue
                } else if nextIsTag {
                    let tag = OperatorDocsTests.deroff(line)
                    sections[section, default: []].append(tag)
                    if section == "OPTIONS" {
                        let names = tag.components(separatedBy: ", ").compactMap { $0.split(separator: " ").first }
                            .map(String.init).filter { $0.hasPrefix("-") }
                        for command in subsectionCommands { options[command, default: []].formUnion(names) }
                    }
                }
                nextIsTag = false
            }
        }
    }

    /// Runs a shell program with arguments, in `directory`; stdout, and a failure when it exits non-zero or says
    /// anything on stderr.
    static func shell(_ shell: String, _ program: String, _ arguments: [String] = [], in directory: String? = nil)
        throws -> String
    {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [shell, "-c", program, shell] + arguments
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let output = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let error = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0, error.isEmpty else {
            throw TestFailure("\(shell) -c …: exit \(process.terminationStatus): \(error)")
        }
        return output
    }

    /// What the bash completion puts in COMPREPLY for a command line typed up to the cursor (TAB at its end): the
    /// words split as bash splits them, `=` being a word of its own (COMP_WORDBREAKS).
    static func bashComplete(_ line: String, in directory: String? = nil) throws -> [String] {
        var words: [String] = []
        for word in line.split(separator: " ", omittingEmptySubsequences: false).map(String.init) {
            guard let equals = word.firstIndex(of: "=") else {
                words.append(word)
                continue
            }
            words += [String(word[..<equals]), "="]
            if word.index(after: equals) < word.endIndex { words.append(String(word[word.index(after: equals)...])) }
        }
        let program =
            #"source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _web2ftp; "#
            + #"(( ${#COMPREPLY[@]} == 0 )) || printf '%s\n' "${COMPREPLY[@]}""#
        return try shell("bash", program, [bashCompletion] + words, in: directory)
            .split(separator: "\n").map(String.init)
    }

    /// What the zsh completion gives `_arguments` for a command's options: its specs, as zsh expands them.
    static func zshSpecs(_ command: String) throws -> [String] {
        let program = #"compdef() { :; }; source "$1"; _web2ftp_specs "$2"; print -rl -- $reply"#
        return try shell("zsh", "emulate zsh; " + program, [zshCompletion, command])
            .split(separator: "\n").map(String.init)
    }

    /// The option a zsh spec defines, and whether it takes a value: `(-o --output)-o+[…]:…` is -o with a value,
    /// `*--only=[…]:…` is --only with one (as --only VALUE or --only=VALUE), `--insecure[…]` a flag.
    static func zshOption(_ spec: String) -> (name: String, takesValue: Bool)? {
        guard let match = spec.firstMatch(of: try! Regex(#"^(?:\([^)]*\))?\*?(--?[A-Za-z0-9][A-Za-z0-9-]*)([=+]?)"#))
        else { return nil }
        let name = match.output[1].substring.map(String.init) ?? ""
        let suffix = match.output[2].substring.map(String.init) ?? ""
        return (name, !suffix.isEmpty)
    }

    // MARK: the comparisons, pure, so that a test can show they catch a missing option

    struct Documents {
        var help: [String: [String: HelpOption]]
        var man: [String: Set<String>]
        var manLongOptions: Set<String>
        var bash: [String: [String]]
        var zsh: [String: [(name: String, takesValue: Bool)]]
    }

    /// Every way a document disagrees with the help, one line each.
    static func problems(_ documents: Documents) -> [String] {
        var problems: [String] = []
        let known = Set(documents.help.values.flatMap(\.keys))
        for command in commands {
            let help = documents.help[command] ?? [:]
            let helpNames = Set(help.keys)
            let man = documents.man[command] ?? []
            for name in helpNames.subtracting(man).sorted() {
                problems.append("man page: \(command)'s \(name) is missing under its OPTIONS subsection")
            }
            for name in man.subtracting(helpNames).sorted() {
                problems.append("man page: \(command)'s \(name) is not in web2ftp help \(command)")
            }
            let expected = completable(help, of: command)
            let bash = documents.bash[command] ?? []
            let bashNames = Set(bash.map { $0.hasSuffix("=") ? String($0.dropLast()) : $0 })
            for name in expected.subtracting(bashNames).sorted() {
                problems.append("bash completion: \(command) does not offer \(name)")
            }
            for name in bashNames.subtracting(expected).sorted() {
                problems.append("bash completion: \(command) offers \(name), which web2ftp help \(command) lacks")
            }
            for offered in bash where offered.hasPrefix("--") {
                let takesValue = help[offered.hasSuffix("=") ? String(offered.dropLast()) : offered]?.takesValue
                if let takesValue, takesValue != offered.hasSuffix("=") {
                    problems.append("bash completion: \(command) offers \(offered) (a value: \(takesValue))")
                }
            }
            let zsh = documents.zsh[command] ?? []
            let zshNames = Set(zsh.map(\.name))
            for name in expected.subtracting(zshNames).sorted() {
                problems.append("zsh completion: \(command) does not offer \(name)")
            }
            for name in zshNames.subtracting(expected).sorted() {
                problems.append("zsh completion: \(command) offers \(name), which web2ftp help \(command) lacks")
            }
            for option in zsh {
                if let takesValue = help[option.name]?.takesValue, takesValue != option.takesValue {
                    problems.append("zsh completion: \(command)'s \(option.name) takes a value: \(takesValue)")
                }
            }
        }
        for name in documents.manLongOptions.subtracting(known).sorted() {
            problems.append("man page: names \(name), an option no command knows")
        }
        return problems
    }

    static func documents() throws -> Documents {
        let roff = try String(contentsOfFile: manPage, encoding: .utf8)
        let man = ManPage(roff)
        let text = roff.split(separator: "\n").map { deroff(String($0)) }.joined(separator: "\n")
        var help: [String: [String: HelpOption]] = [:]
        var bash: [String: [String]] = [:]
        var zsh: [String: [(name: String, takesValue: Bool)]] = [:]
        for command in commands {
            help[command] = try helpOptions(of: command)
            bash[command] = try bashComplete("web2ftp \(command) -")
            zsh[command] = try zshSpecs(command).compactMap(zshOption)
        }
        return Documents(
            help: help, man: man.options,
            manLongOptions: Set(text.matches(of: try Regex(#"--[a-z][a-z-]*[a-z]"#)).map { String(text[$0.range]) }),
            bash: bash, zsh: zsh)
    }

    // MARK: the tests

    @Test(
        "every option of every command's help is in the man page under that command and in both completions, and they name no other"
    )
    func inStep() throws {
        let documents = try Self.documents()
        // The readers work: they find what they must.
        #expect(documents.help["manual"]?["--config"] == HelpOption(takesValue: true, only: nil))
        #expect(documents.help["manual"]?["--at"] == HelpOption(takesValue: true, only: "schedule"))
        #expect(documents.help["manual"]?["-V"] != nil && documents.help["get"]?["-vv"] != nil)
        #expect(documents.help["preview"]?["-o"]?.takesValue == true)
        #expect(documents.man["next-run"]?.contains("--unix") == true)
        #expect(documents.bash["manual"]?.contains("--config=") == true)
        #expect(documents.zsh["get"]?.contains { $0 == ("-o", true) } == true)
        let problems = Self.problems(documents)
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
    }

    @Test("an option added to the help alone is caught in the man page and in both completions")
    func catchesAnUndocumentedOption() throws {
        var documents = try Self.documents()
        documents.help["manual"]?["--brand-new"] = HelpOption(takesValue: true, only: nil)
        let problems = Self.problems(documents)
        #expect(problems.contains("man page: manual's --brand-new is missing under its OPTIONS subsection"))
        #expect(problems.contains("bash completion: manual does not offer --brand-new"))
        #expect(problems.contains("zsh completion: manual does not offer --brand-new"))
        documents.help["manual"]?["--brand-new"] = nil
        documents.help["check"]?["--env"] = nil
        let gone = Self.problems(documents)
        #expect(gone.contains("man page: check's --env is not in web2ftp help check"))
        #expect(gone.contains("bash completion: check offers --env, which web2ftp help check lacks"))
        #expect(gone.contains("zsh completion: check offers --env, which web2ftp help check lacks"))
    }

    @Test("each command's help lists every option its parser takes, and says which take a value")
    func helpListsTheParser() throws {
        let parsers: [String: [(names: [String], value: String?)]] = [
            "manual": RunArguments.parser(schedule: false).options.map { ($0.names, $0.value) },
            "schedule": RunArguments.parser(schedule: true).options.map { ($0.names, $0.value) },
            "check": CheckCommand.parser.options.map { ($0.names, $0.value) },
            "preview": PreviewCommand.parser.options.map { ($0.names, $0.value) },
            "get": GetCommand.parser.options.map { ($0.names, $0.value) },
            "next-run": NextRunCommand.parser.options.map { ($0.names, $0.value) },
        ]
        for command in Self.commands {
            let help = try Self.helpOptions(of: command)
            let parser = try #require(parsers[command])
            for option in parser {
                for name in option.names {
                    #expect(help[name]?.takesValue == (option.value != nil), "web2ftp help \(command): \(name)")
                }
            }
            // And the help names nothing the parser lacks: -h, -V and their long forms are every parser's, a
            // cluster like -vv is its letters'.
            let flags = Set(parser.filter { $0.value == nil }.flatMap(\.names))
            let parsed = Set(parser.flatMap(\.names)).union(["-h", "--help", "-V", "--version"])
            for name in help.keys where !parsed.contains(name) {
                let cluster = !name.hasPrefix("--") && name.dropFirst().allSatisfy { flags.contains("-\($0)") }
                #expect(cluster, "web2ftp help \(command) names \(name), which its parser does not take")
            }
        }
    }

    @Test("the man page renders without a warning, has its sections, and says the binary's version and exit codes")
    func manPageRenders() throws {
        let rendered = try Self.shell("sh", #"groff -man -ww -z "$1" 2>&1"#, [Self.manPage])
        #expect(rendered.isEmpty, "groff: \(rendered)")
        let page = ManPage(try String(contentsOfFile: Self.manPage, encoding: .utf8))
        for section in ["COMMANDS", "OPTIONS", "ENVIRONMENT", "FILES", "EXIT STATUS", "EXAMPLES"] {
            #expect(page.sections[section] != nil, "no \(section) section")
        }
        let version = try runProduct("web2ftp", ["--version"]).output
        #expect(version == "web2ftp \(page.version)\n", "the man page's .TH says web2ftp \(page.version)")
        // The exit codes and environment variables --help lists, each with an entry of its own.
        let help = try runProduct("web2ftp", ["--help"]).output
        let exitSection = try #require(help.range(of: "EXIT CODES\n")).upperBound
        let codes = help[exitSection...].matches(of: try Regex(#"(?m)(?:^|\s{2,})(\d+) [a-z]"#))
            .compactMap { $0.output[1].substring.map(String.init) }
        #expect(codes == ["0", "1", "2", "3", "4", "130", "143"])
        #expect(page.sections["EXIT STATUS"] == codes)
        let environment = try #require(help.range(of: "ENVIRONMENT\n")).upperBound
        let variables = help[environment...].matches(of: try Regex(#"(?m)^  ([A-Z_]+) "#))
            .compactMap { $0.output[1].substring.map(String.init) }
        #expect(variables.count >= 6)
        let manVariables = Set((page.sections["ENVIRONMENT"] ?? []).flatMap { $0.components(separatedBy: ", ") })
        for variable in variables { #expect(manVariables.contains(variable), "ENVIRONMENT lacks \(variable)") }
        for file in ["./config.json", "./etl_pipeline.log", "$XDG_RUNTIME_DIR/web2ftp-HASH.lock", "~/.netrc"] {
            #expect(page.sections["FILES"]?.contains(file) == true, "FILES lacks \(file)")
        }
    }

    @Test("the completion files parse: bash -n, zsh -n")
    func completionsParse() throws {
        _ = try Self.shell("bash", #"bash -n "$1""#, [Self.bashCompletion])
        _ = try Self.shell("sh", #"zsh -n "$1""#, [Self.zshCompletion])
    }

    @Test("bash completes commands, modes, --ftp-tls values, files, and source names from the config")
    func bashCompletes() throws {
        let scratch = try Scratch("completion")
        // Keys inside PARAMS and HEADERS, and braces and quotes inside strings, are not source names.
        try scratch.write(
            "config.json",
            #"""
            {"sales": {"URL": "https://e/{a}.csv", "PARAMS": {"sep": ";", "names": ["a:b", "c"]}},
             "prices \"eu\"": {"URL": "https://e/p", "HEADERS": {"X-Key": "v}"}},
             "stock": {"URL": "https://e/s"}}
            """#)
        try scratch.write("other.json", #"{"north": {"URL": "u"}, "north east": {"URL": "v"}}"#)
        let dir = scratch.directory
        #expect(try Self.bashComplete("web2ftp man") == ["manual"])
        #expect(try Self.bashComplete("web2ftp ") == Self.commands + ["help"])
        #expect(try Self.bashComplete("web2ftp manual ") == ["sequential", "parallel"])
        #expect(try Self.bashComplete("web2ftp manual --ftp-tls ") == ["explicit", "implicit", "none"])
        #expect(try Self.bashComplete("web2ftp check --ftp-tls=i") == ["implicit"])
        #expect(try Self.bashComplete("web2ftp preview ", in: dir) == ["sales", #"prices\ \"eu\""#, "stock"])
        #expect(try Self.bashComplete("web2ftp preview s", in: dir) == ["sales", "stock"])
        #expect(try Self.bashComplete("web2ftp manual parallel --only st", in: dir) == ["stock"])
        #expect(
            try Self.bashComplete("web2ftp manual parallel --config=other.json --only ", in: dir)
                == ["north", #"north\ east"#])
        #expect(try Self.bashComplete("web2ftp schedule --config other.json --only=n", in: dir).count == 2)
        #expect(try Self.bashComplete("web2ftp manual --config ot", in: dir) == ["other.json"])
        #expect(try Self.bashComplete("web2ftp get -o oth", in: dir) == ["other.json"])
        #expect(try Self.bashComplete("web2ftp preview sales --rows ") == ["all"])
        #expect(try Self.bashComplete("web2ftp manual --ftp-t") == ["--ftp-tls=", "--ftp-timeout="])
        #expect(try Self.bashComplete("web2ftp help ne") == ["next-run"])
        #expect(
            try Self.bashComplete("web2ftp preview nothing-here ", in: "/") == Self.bashComplete("web2ftp preview -"))
        // No config where one is looked for: no names, no error.
        #expect(try Self.bashComplete("web2ftp preview ", in: "/").isEmpty)
    }
}
