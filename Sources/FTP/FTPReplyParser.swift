/// An incremental FTP reply parser: fed arbitrary chunks of the control connection, it emits whole replies, single
/// and multi-line (`NNN-` … `NNN `), however the input is split. Lines are capped; a reply that does not start with a
/// code is garbage and an error.
@_spi(Internals) public struct FTPReplyParser {
    public var maxLineLength = 8 * 1024
    public var maxLines = 1000

    private var line: [UInt8] = []
    private var multiLineCode: Int?
    private var lines: [String] = []
    /// Bytes consumed so far, for error positions.
    public private(set) var offset: UInt64 = 0

    public init() {}

    /// True while part of a reply has been read: a connection closing now cut a reply short.
    public var isInsideReply: Bool { !line.isEmpty || multiLineCode != nil }

    public mutating func feed(_ bytes: UnsafeRawBufferPointer, _ emit: (FTPReply) -> Void) throws(FTPProtocolError) {
        var index = 0
        while index < bytes.count {
            var end = index
            while end < bytes.count && bytes[end] != 10 { end += 1 }
            guard line.count + (end - index) <= maxLineLength else {
                throw FTPProtocolError(offset: offset, "a reply line is longer than \(maxLineLength) bytes")
            }
            line.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[index..<end]))
            offset += UInt64(end - index)
            index = end
            guard end < bytes.count else { return }
            index += 1
            offset += 1
            if line.last == 13 { line.removeLast() }
            let complete = line
            line.removeAll(keepingCapacity: true)
            if let reply = try take(complete) { emit(reply) }
        }
    }

    private mutating func take(_ bytes: [UInt8]) throws(FTPProtocolError) -> FTPReply? {
        let code = Self.code(bytes)
        if let open = multiLineCode {
            // Inside a multi-line reply any text is allowed; "NNN " (or a bare "NNN") with the same code ends it.
            if code == open && (bytes.count == 3 || bytes[3] == 32) {
                lines.append(Self.text(bytes))
                let reply = FTPReply(code: open, lines: lines)
                multiLineCode = nil
                lines = []
                return reply
            }
            guard lines.count < maxLines else {
                throw FTPProtocolError(offset: offset, "a multi-line reply is longer than \(maxLines) lines")
            }
            lines.append(String(decoding: bytes, as: UTF8.self))
            return nil
        }
        guard let code, code >= 100, code < 600, bytes.count == 3 || bytes[3] == 32 || bytes[3] == 45 else {
            let shown = String(decoding: bytes.prefix(60), as: UTF8.self)
            throw FTPProtocolError(offset: offset, "not an FTP reply: '\(shown)'")
        }
        if bytes.count > 3 && bytes[3] == 45 {
            multiLineCode = code
            lines = [Self.text(bytes)]
            return nil
        }
        return FTPReply(code: code, lines: [Self.text(bytes)])
    }

    static func code(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 3, bytes[0...2].allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return nil }
        return Int(bytes[0] - 48) * 100 + Int(bytes[1] - 48) * 10 + Int(bytes[2] - 48)
    }

    static func text(_ bytes: [UInt8]) -> String {
        bytes.count > 4 ? String(decoding: bytes[4...], as: UTF8.self) : ""
    }
}

/// The server's bytes are not FTP.
public struct FTPProtocolError: Error, Equatable, Sendable, CustomStringConvertible {
    public let offset: UInt64
    public let detail: String

    @_spi(Internals) public init(offset: UInt64, _ detail: String) {
        self.offset = offset
        self.detail = detail
    }

    public var description: String { "\(detail) (at byte \(offset) of the control connection)" }
}
