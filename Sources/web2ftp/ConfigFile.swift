@_spi(Internals) import Reactor
@_spi(Internals) import WebToFTP

/// The config file as every command reads it, its problems worded for a person: `FILE:LINE:COLUMN: problem` where
/// the JSON shows where (the form compilers use, which editors jump to), else `FILE: problem`, always under the
/// file's own name.
enum ConfigFile {
    static func load(_ path: String, runStart: LocalTime) -> Result<[SourceConfig], RunCommand.Problems> {
        switch RunCommand.readFile(path) {
        case .failure(let reason):
            return .failure(RunCommand.Problems(list: ["cannot read the config \(path): \(reason.text)"]))
        case .success(let text):
            do {
                return .success(try ConfigLoader.load(text, named: path, runStart: runStart))
            } catch {
                return .failure(RunCommand.Problems(list: error.problems.map { describe($0, file: path) }))
            }
        }
    }

    static func describe(_ problem: ConfigProblem, file: String) -> String {
        // A problem with a source names it; one without (the JSON does not parse) is about the file.
        let text = problem.source == nil ? problem.message : problem.description
        if let line = problem.line, let column = problem.column { return "\(file):\(line):\(column): \(text)" }
        return problem.source == nil ? problem.description : "\(file): \(text)"
    }
}

/// The FTP side from the environment (and ~/.netrc when FTPPASS is unset), with what is worth a warning.
enum FTPVariables {
    struct Loaded {
        var ftp: FTPEnvironment?
        var problems: [String] = []
        /// `(event, detail)`: the caller logs them, or prints them when there is no log.
        var warnings: [(name: String, fields: [(String, String)])] = []
    }

    static func load(_ environment: [String: String], security: FTPSecurity?) -> Loaded {
        var loaded = Loaded()
        var netrc: (path: String, text: String)?
        if environment["FTPPASS"]?.isEmpty ?? true, let home = environment["HOME"],
            case .success(let text) = RunCommand.readFile(home + "/.netrc")
        {
            netrc = (home + "/.netrc", text)
        }
        do {
            let ftp = try FTPEnvironment.load(environment, security: security, netrc: netrc?.text)
            loaded.ftp = ftp
            let gavePassword = netrc != nil && !(environment["FTPPASS"]?.isEmpty == false)
            if let netrc, let mode = File.permissions(of: netrc.path),
                let detail = Netrc.permissionWarning(mode: mode, gavePassword: gavePassword)
            {
                loaded.warnings.append(("netrc_readable", [("path", netrc.path), ("detail", detail)]))
            }
        } catch {
            loaded.problems = error.messages
        }
        return loaded
    }
}
