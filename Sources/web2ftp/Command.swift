@_spi(Internals) import CSVStream
@_spi(Internals) import WebToFTP

/// A subcommand, each in a file of its own: `web2ftp NAME …` runs it; `web2ftp help NAME` and `web2ftp NAME --help`
/// print its own help.
struct Command {
    let name: String
    let help: String
    let run: ([String]) -> Int32

    static var all: [Command] {
        [
            Command(name: "manual", help: Usage.manual, run: RunCommand.run),
            Command(name: "schedule", help: Usage.schedule, run: ScheduleCommand.run),
            Command(name: "check", help: Usage.check, run: CheckCommand.run),
            Command(name: "preview", help: Usage.preview, run: PreviewCommand.run),
            Command(name: "get", help: Usage.get, run: GetCommand.run),
            Command(name: "next-run", help: Usage.nextRun, run: NextRunCommand.run),
        ]
    }

    static func named(_ name: String) -> Command? { all.first { $0.name == name } }

    /// `unknown command 'manul' — did you mean 'manual'?`, else the list. A word that starts with `-` is an option:
    /// before a command only the global ones are known (`--verison` — did you mean `--version`?).
    static func unknown(_ word: String) -> String {
        if word.hasPrefix("-") {
            let global = ["-h", "--help", "-V", "--version"]
            if let hint = Spelling.hint(for: word, among: global) { return "unknown option '\(word)' — \(hint)" }
            return "unknown option '\(word)' (before a command only -h/--help and -V/--version; see web2ftp --help)"
        }
        let names = all.map(\.name) + ["help"]
        if let hint = Spelling.hint(for: word, among: names) { return "unknown command '\(word)' — \(hint)" }
        return "unknown command '\(word)' (expected \(names.joined(separator: ", ")); see web2ftp --help)"
    }
}

/// Why a command stops before it runs: its help or the version was printed (0), or a usage error was (2).
struct Exit: Error {
    let status: Int32
}

extension OptionParser {
    /// Parses for a command's `run`: `--help` prints `help` and `--version` the version (exit 0); a usage error is
    /// printed as `web2ftp COMMAND: …` (exit 2).
    func arguments(_ arguments: [String], into start: Target, help: String) -> Result<Target, Exit> {
        let parsed: Parsed<Target>
        do {
            parsed = try parse(arguments, into: start)
        } catch {
            return .failure(usage(error))
        }
        switch parsed {
        case .run(let target):
            return .success(target)
        case .help:
            writeOut(help + "\n", to: 1)
        case .version:
            writeOut("web2ftp \(Web2FTP.version)\n", to: 1)
        }
        return .failure(Exit(status: 0))
    }

    func usage(_ message: Message) -> Exit {
        writeOut("web2ftp \(command): \(message.text)\n", to: 2)
        return Exit(status: 2)
    }
}
