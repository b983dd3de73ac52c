/// `~/.netrc` (as ftp(1) and curl read it): `machine HOST login USER password PASS`, and `default`. Used for the
/// FTP credentials when FTPPASS is not set, so that the password need not sit in the environment.
@_spi(Internals) public enum Netrc {
    public struct Entry: Equatable, Sendable {
        public var login: String?
        public var password: String?
    }

    /// The entry for `host` (or the `default` one) in the text of a netrc file.
    public static func entry(for host: String, in text: String) -> Entry? {
        // Character.isWhitespace, not a list of separators: CR LF is one Character, equal to neither "\r" nor "\n".
        let tokens = text.split(whereSeparator: \.isWhitespace).map(String.init)
        var index = 0
        var found: Entry?
        var fallback: Entry?
        while index < tokens.count {
            let token = tokens[index]
            index += 1
            guard token == "machine" || token == "default" else { continue }
            var name: String?
            if token == "machine" {
                guard index < tokens.count else { break }
                name = tokens[index]
                index += 1
            }
            var entry = Entry()
            while index < tokens.count && tokens[index] != "machine" && tokens[index] != "default" {
                let key = tokens[index]
                let value = index + 1 < tokens.count ? tokens[index + 1] : nil
                switch key {
                case "login": entry.login = value
                case "password": entry.password = value
                case "macdef": index = tokens.count  // macros run to a blank line; nothing after them is ours
                default: break
                }
                index += 2
            }
            if let name, name == host, found == nil { found = entry }
            if name == nil, fallback == nil { fallback = entry }
        }
        return found ?? fallback
    }

    /// ftp(1)'s rule, as a warning: a netrc that gives the password while group or others can read it (any of the
    /// mode's 0o077 bits) is worth a line; nil when it is private or gave no password.
    public static func permissionWarning(mode: UInt32, gavePassword: Bool) -> String? {
        guard gavePassword, mode & 0o077 != 0 else { return nil }
        let octal = String(mode & 0o777, radix: 8)
        return "holds the FTP password and group or others can access it (mode \(octal)): chmod 600 it"
    }
}
