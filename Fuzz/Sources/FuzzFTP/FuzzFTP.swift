@_spi(Internals) import WebToFTP

/// The FTP reply parser and the 227/229 parsers: no crash, and the same replies however the input is split.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let text = String(decoding: bytes, as: UTF8.self)
    _ = PassiveReply.parse227(text)
    _ = PassiveReply.parse229(text)
    guard !bytes.isEmpty else { return 0 }
    let split = Int(bytes[0]) % (bytes.count + 1)
    precondition(replies([bytes[...]]) == replies([bytes[..<split], bytes[split...]]), "split changed the replies")
    return 0
}

func replies(_ pieces: [ArraySlice<UInt8>]) -> [String] {
    var parser = FTPReplyParser()
    var out: [String] = []
    do {
        for piece in pieces {
            try Array(piece).withUnsafeBytes { raw in
                try parser.feed(raw) { out.append("\($0.code) \($0.lines.count)") }
            }
        }
    } catch {
        out.append("error")
    }
    return out
}
