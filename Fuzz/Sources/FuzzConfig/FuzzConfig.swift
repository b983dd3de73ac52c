@_spi(Internals) import WebToFTP

/// The JSON parser and config loader: any text is either a config or a list of problems, never a crash.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    let start = LocalTime.now()
    _ = try? JSONParser.parse(text)
    _ = try? ConfigLoader.load(text, runStart: start)
    return 0
}
