@_spi(Internals) import FTP
import Testing

func replies(_ pieces: [[UInt8]]) -> [String] {
    var parser = FTPReplyParser()
    var out: [String] = []
    do {
        for piece in pieces {
            try piece.withUnsafeBytes { bytes in
                try parser.feed(bytes) { reply in out.append("\(reply.code)|" + reply.lines.joined(separator: "/")) }
            }
        }
    } catch let error as FTPProtocolError {
        out.append("error: \(error.detail)")
    } catch {
        out.append("unexpected: \(error)")
    }
    return out
}

/// Replies for `text`: identical whole, split at every byte, and byte by byte.
func replies(_ text: String) -> [String] {
    let bytes = Array(text.utf8)
    let whole = replies([bytes])
    for split in 0...bytes.count {
        let result = replies([Array(bytes[..<split]), Array(bytes[split...])])
        #expect(result == whole, "split at \(split)")
        if result != whole { break }
    }
    #expect(replies(bytes.map { [$0] }) == whole, "byte by byte")
    return whole
}

@Suite("FTP reply parser")
struct FTPReplyParserTests {
    @Test("single-line replies, CRLF or bare LF, several in one read")
    func singleLines() {
        #expect(
            replies("220 (vsFTPd 3.0.3)\r\n331 Please specify the password.\n230 Login successful.\r\n")
                == ["220|(vsFTPd 3.0.3)", "331|Please specify the password.", "230|Login successful."])
    }

    @Test("multi-line replies, with inner lines that look like codes")
    func multiLine() {
        let feat = "211-Features:\r\n EPSV\r\n PASV\r\n SIZE\r\n UTF8\r\n211 End\r\n"
        #expect(replies(feat) == ["211|Features:/ EPSV/ PASV/ SIZE/ UTF8/End"])
        let banner = "220-Welcome\r\n220-to the server\r\n123 not the end\r\n220 ready\r\n"
        #expect(replies(banner) == ["220|Welcome/220-to the server/123 not the end/ready"])
        #expect(replies("230-\r\n230\r\n") == ["230|/"])
    }

    @Test("garbage is an error, saying what it saw")
    func garbage() {
        #expect(replies("HTTP/1.1 200 OK\r\n").first?.hasPrefix("error: not an FTP reply: 'HTTP/1.1 200 OK'") == true)
        #expect(replies("22 short\r\n").first?.hasPrefix("error: not an FTP reply") == true)
        #expect(replies("220x no separator\r\n").first?.hasPrefix("error: not an FTP reply") == true)
        #expect(replies("999 out of range\r\n").first?.hasPrefix("error: not an FTP reply") == true)
    }

    @Test("lines and multi-line replies are capped")
    func caps() {
        let long = "220 " + String(repeating: "x", count: 9000) + "\r\n"
        #expect(replies([Array(long.utf8)]).first?.contains("longer than 8192 bytes") == true)
        let endless = "211-start\r\n" + String(repeating: " line\r\n", count: 1001)
        #expect(replies([Array(endless.utf8)]).first?.contains("longer than 1000 lines") == true)
    }
}

@Suite("FTP commands and passive replies")
struct FTPCommandTests {
    @Test("CR, LF or NUL in an argument is refused; the password never prints")
    func commands() throws {
        #expect(try FTPCommand("STOR", "a b.csv").wire == "STOR a b.csv\r\n")
        #expect(throws: FTPError.self) { _ = try FTPCommand("STOR", "x\r\nDELE y") }
        #expect(throws: FTPError.self) { _ = try FTPCommand("STOR", "x\ny") }
        #expect(throws: FTPError.self) { _ = try FTPCommand("STOR", "x\u{0}") }
        #expect(throws: FTPError.self) { _ = try FTPCommand("stor", "x") }
        #expect("\(try FTPCommand("PASS", "hunter2"))" == "PASS ***")
    }

    @Test("227 with and without parentheses; 229 with any delimiter")
    func passive() {
        #expect(PassiveReply.parse227("Entering Passive Mode (127,0,0,1,70,200).")! == ("127.0.0.1", 70 * 256 + 200))
        #expect(PassiveReply.parse227("=10,1,2,3,4,5")! == ("10.1.2.3", 1029))
        #expect(PassiveReply.parse227("Entering Passive Mode (1,2,3)") == nil)
        #expect(PassiveReply.parse227("Entering Passive Mode (300,2,3,4,5,6)") == nil)
        #expect(PassiveReply.parse229("Entering Extended Passive Mode (|||18105|)") == 18105)
        #expect(PassiveReply.parse229("Entering Extended Passive Mode (!!!2121!)") == 2121)
        #expect(PassiveReply.parse229("Entering Extended Passive Mode (|||0|)") == nil)
        #expect(PassiveReply.parse229("Entering Extended Passive Mode (|||70000|)") == nil)
        #expect(PassiveReply.parse229("Entering Extended Passive Mode") == nil)
    }
}
