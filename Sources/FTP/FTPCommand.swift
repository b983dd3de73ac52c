/// Commands for the control connection. Arguments with CR, LF or NUL are refused: they would let a file name inject a
/// second command (RFC 959 has no quoting).
@_spi(Internals) public struct FTPCommand: Equatable, Sendable, CustomStringConvertible {
    public let verb: String
    public let argument: String?

    public init(_ verb: String, _ argument: String? = nil) throws(FTPError) {
        guard !verb.isEmpty, verb.utf8.allSatisfy({ ($0 >= 65 && $0 <= 90) }) else {
            throw .invalidArgument("'\(verb)' is not an FTP command")
        }
        if let argument {
            guard !argument.utf8.contains(where: { $0 == 13 || $0 == 10 || $0 == 0 }) else {
                throw .invalidArgument("\(verb) argument holds CR, LF or NUL")
            }
        }
        self.verb = verb
        self.argument = argument
    }

    /// One of the client's own argument-less commands (EPSV, PASV, QUIT …): valid by construction.
    init(constant verb: StaticString) {
        self.verb = "\(verb)"
        self.argument = nil
        precondition(self.verb.utf8.allSatisfy { $0 >= 65 && $0 <= 90 }, "'\(verb)' is not an FTP command")
    }

    /// The line as sent, CRLF included.
    public var wire: String { (argument.map { "\(verb) \($0)" } ?? verb) + "\r\n" }

    /// The command as it may appear in logs and errors: a password never does.
    public var description: String {
        if verb == "PASS" { return "PASS ***" }
        return argument.map { "\(verb) \($0)" } ?? verb
    }
}

/// The data port a passive-mode reply announces.
@_spi(Internals) public enum PassiveReply {
    /// 227 (RFC 959): six numbers h1,h2,h3,h4,p1,p2, with or without parentheses. The host is returned for the record;
    /// the client connects to the control connection's peer unless told to trust it.
    public static func parse227(_ text: String) -> (host: String, port: Int)? {
        let pieces = text.split { !($0.isASCII && ($0.isNumber || $0 == ",")) }
        for piece in pieces {
            let numbers = piece.split(separator: ",", omittingEmptySubsequences: false).map { Int($0) }
            guard numbers.count == 6, numbers.allSatisfy({ $0 != nil && $0! <= 255 }) else { continue }
            let values = numbers.map { $0! }
            let port = values[4] * 256 + values[5]
            guard port > 0 else { return nil }
            return ("\(values[0]).\(values[1]).\(values[2]).\(values[3])", port)
        }
        return nil
    }

    /// 229 (RFC 2428 §3): "(|||port|)", any printable delimiter in place of "|".
    public static func parse229(_ text: String) -> Int? {
        let bytes = Array(text.utf8)
        guard let open = bytes.firstIndex(of: 40), open + 5 < bytes.count else { return nil }
        let delimiter = bytes[open + 1]
        guard delimiter >= 33 && delimiter <= 126, bytes[open + 2] == delimiter, bytes[open + 3] == delimiter else {
            return nil
        }
        var port = 0
        var index = open + 4
        while index < bytes.count && bytes[index] >= 48 && bytes[index] <= 57 && port <= 65535 {
            port = port * 10 + Int(bytes[index] - 48)
            index += 1
        }
        guard index < bytes.count, bytes[index] == delimiter, index > open + 4, (1...65535).contains(port) else {
            return nil
        }
        return port
    }
}
