@_spi(Internals) import FTP

/// The FTP side, from the environment as the old script used it: FTPHOST (host, host:port or [IPv6]:port),
/// FTPUSER, FTPPASS, FTPTARGET, and FTPTLS (explicit, implicit or none).
public struct FTPEnvironment: Sendable {
    public var host: String
    public var port: Int?
    public var user: String
    public var password: String
    /// The remote directory as the server names it (absolute, or relative to the login directory).
    public var targetDirectory: String
    public var security: FTPSecurity

    /// The FTP side built in code, checked as the environment is (nothing empty but the port, a port from 1 to
    /// 65535, no control characters): every problem listed.
    public init(
        host: String, port: Int? = nil, user: String, password: String, targetDirectory: String,
        security: FTPSecurity = .explicitTLS
    ) throws(ConfigError) {
        self.init(
            checked: host, port: port, user: user, password: password, targetDirectory: targetDirectory,
            security: security)
        let problems = self.problems
        guard problems.isEmpty else { throw ConfigError(problems: problems) }
    }

    init(
        checked host: String, port: Int?, user: String, password: String, targetDirectory: String,
        security: FTPSecurity
    ) {
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.targetDirectory = targetDirectory
        self.security = security
    }

    /// What `load` would refuse in these values, named by their variables (the values are not echoed).
    var problems: [ConfigProblem] {
        var problems: [ConfigProblem] = []
        let values = [("FTPHOST", host), ("FTPUSER", user), ("FTPPASS", password), ("FTPTARGET", targetDirectory)]
        for (name, value) in values where value.isEmpty {
            problems.append(ConfigProblem(source: nil, key: name, "\(name) is not set"))
        }
        if let port, !(1...65535).contains(port) {
            problems.append(ConfigProblem(source: nil, key: "FTPHOST", "FTPHOST: invalid port \(port)"))
        }
        for (name, value) in values where value.unicodeScalars.contains(where: \.isControl) {
            problems.append(
                ConfigProblem(
                    source: nil, key: name, "\(name) must not contain control characters (line breaks, NUL, tabs)"))
        }
        return problems
    }

    /// All missing or malformed variables are reported together.
    /// `netrc`: the text of ~/.netrc, read for FTPUSER/FTPPASS when FTPPASS is not set.
    public static func load(
        _ environment: [String: String], security override: FTPSecurity? = nil, netrc: String? = nil
    ) throws(ConfigError) -> FTPEnvironment {
        var environment = environment
        let hostText = environment["FTPHOST"] ?? ""
        var problems: [String] = []
        var host = hostText
        var port: Int?
        var parsed: FTPHost?
        if !hostText.isEmpty && !hostText.unicodeScalars.contains(where: \.isControl) {
            switch FTPHost.parse(hostText) {
            case .success(let found): (host, port, parsed) = (found.host, found.port, found)
            case .failure(let error): problems += error.messages
            }
        }
        if environment["FTPPASS"]?.isEmpty ?? true, let netrc, !host.isEmpty,
            let entry = Netrc.entry(for: host, in: netrc), let password = entry.password
        {
            environment["FTPPASS"] = password
            if environment["FTPUSER"]?.isEmpty ?? true, let login = entry.login { environment["FTPUSER"] = login }
        }
        func required(_ name: String) -> String {
            guard let value = environment[name], !value.isEmpty else {
                problems.append("\(name) is not set")
                return ""
            }
            return value
        }
        _ = required("FTPHOST")
        let user = required("FTPUSER")
        let password = required("FTPPASS")
        let target = required("FTPTARGET")
        var given = override
        var origin = "--ftp-tls"
        if override == nil, let text = environment["FTPTLS"], !text.isEmpty {
            origin = "FTPTLS"
            if let value = FTPSecurity(rawValue: text) {
                given = value
            } else {
                problems.append("FTPTLS must be explicit, implicit or none, got \"\(ConfigLoader.printable(text))\"")
            }
        }
        var security = given ?? .explicitTLS
        if let parsed {
            switch parsed.security(given: given, from: origin) {
            case .success(let chosen): security = chosen
            case .failure(let error): problems += error.messages
            }
        }
        // By scalar: CR LF is one Character, so `contains("\n")` would not see it. The values are not echoed (a
        // password must not be, and the others would carry their control characters into the log).
        for (name, value) in [("FTPHOST", hostText), ("FTPUSER", user), ("FTPPASS", password), ("FTPTARGET", target)]
        where value.unicodeScalars.contains(where: \.isControl) {
            problems.append("\(name) must not contain control characters (line breaks, NUL, tabs)")
        }
        guard problems.isEmpty else { throw ConfigError(problems) }
        return FTPEnvironment(
            checked: host, port: port, user: user, password: password, targetDirectory: target, security: security)
    }
}
