@_spi(Internals) import WebToFTP

/// URLs and redirect resolution: no crash; what parses prints back to something that parses to the same URL.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    guard let url = try? HTTPURL(text) else { return 0 }
    let again = try? HTTPURL(url.description)
    precondition(again == url, "\(url.description) does not parse back to itself")
    _ = url.redacted
    _ = try? url.resolving(text)
    return 0
}
