import Foundation
@_spi(Internals) import TestSupport
import Testing

/// What the binary links, which is most of what it weighs (README, "Binary size").
@Suite("The web2ftp binary: what it links")
struct BinaryTests {
    /// One call of the standard library's `String.contains(_: String)` or `firstRange(of:)` links _StringProcessing and
    /// the regex parser (≈ 1.2 MB of the static binary); the sources use `containsUTF8` / `firstUTF8Range` instead.
    /// The debug build links the Swift libraries dynamically, so its imports show any such call.
    @Test("nothing from _StringProcessing or the regex parser")
    func noStringProcessing() throws {
        let nm = Process()
        nm.executableURL = URL(fileURLWithPath: "/usr/bin/nm")
        nm.arguments = ["-D", "--undefined-only", try productPath("web2ftp")]
        let output = Pipe()
        nm.standardOutput = output
        try nm.run()
        let symbols = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        nm.waitUntilExit()
        #expect(nm.terminationStatus == 0)
        #expect(symbols.contains("SSL_read"), "nm printed no imports: \(symbols.prefix(200))")
        let offending = symbols.split(separator: "\n").filter {
            $0.contains("17_StringProcessing") || $0.contains("12_RegexParser")
        }
        #expect(offending.isEmpty, "imports: \(offending.joined(separator: "\n"))")
    }
}
