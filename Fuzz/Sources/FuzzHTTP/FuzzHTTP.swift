@_spi(Internals) import WebToFTP

/// The HTTP response parser (chunked decoder included): any bytes, split at a point the input chooses, must give
/// the same events as whole, and never crash.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    guard size > 1 else { return 0 }
    let method = bytes[0] & 1 == 0 ? "GET" : "HEAD"
    let input = Array(bytes[1...])
    let split = Int(bytes[0] >> 1) % (input.count + 1)
    let whole = events([input[...]], method: method)
    let pieces = events([input[..<split], input[split...]], method: method)
    precondition(whole == pieces, "split at \(split) changed the events")
    return 0
}

func events(_ pieces: [ArraySlice<UInt8>], method: String) -> [String] {
    var parser = HTTPResponseParser(requestMethod: method)
    var out: [String] = []
    var body: [UInt8] = []
    do {
        for piece in pieces {
            _ = try Array(piece).withUnsafeBytes { raw in
                try parser.feed(raw) { event in
                    switch event {
                    case .interim(let head): out.append("interim \(head.status) \(head.headers.fields.count)")
                    case .head(let head): out.append("head \(head.status) \(head.headers.fields.count)")
                    case .body(let chunk): body += chunk
                    case .end(let keepAlive): out.append("end \(keepAlive) \(body.count)")
                    }
                    return true
                }
            }
        }
        try parser.finish { _ in true }
    } catch let error as HTTPParseError {
        out.append("error \(error.kind)")
    } catch {
        out.append("other \(error)")
    }
    return out
}
