internal import CLinux
import Glibc

/// Gives memory back while a long-lived process waits (a `schedule` idles for most of a day): the heap's free space,
/// and the resident pages of the code it mapped from files (its own binary, libcrypto, libc). Those pages are most of
/// an idle process's RSS — about 12 of 14 MiB — and the next run reads them back in once.
///
/// Code (read-only, executable mappings) is unmapped with `MADV_DONTNEED`: code pages are never written, so the next
/// touch maps them again from the page cache (a minor fault) or the file — exactly what they were. The kernel's
/// `MADV_PAGEOUT` would reclaim them outright but skips every page another process maps too (libc, libcrypto: most
/// of them), so it only serves the other read-only mappings (constants; RELRO data, which relocation wrote, must not
/// be discarded, and `MADV_PAGEOUT` never discards: it leaves a written private page alone with no swap to go to).
/// A kernel without `MADV_PAGEOUT` (before 5.4) answers EINVAL and those mappings stay.
@_spi(Internals) public enum IdleMemory {
    /// Returns how many bytes of mappings were asked to go (for a test; the kernel decides what it drops).
    @discardableResult
    public static func release() -> Int {
        _ = cl_malloc_trim()
        guard let maps = readSmaps() else { return 0 }
        var asked = 0
        for mapping in fileBackedReadOnly(maps) {
            guard let start = UnsafeMutableRawPointer(bitPattern: mapping.start) else { continue }
            // MADV_PAGEOUT (21) is not in the Glibc module of this toolchain.
            let advice = mapping.executable ? MADV_DONTNEED : 21
            if madvise(start, Int(mapping.end - mapping.start), advice) == 0 {
                asked += Int(mapping.end - mapping.start)
            }
        }
        return asked
    }

    public struct Mapping: Equatable, Sendable {
        public var start: UInt
        public var end: UInt
        public var executable: Bool

        public init(start: UInt, end: UInt, executable: Bool) {
            self.start = start
            self.end = end
            self.executable = executable
        }
    }

    /// The mappings of `/proc/self/smaps` that come from a file (an inode), are not writable, and hold no page of
    /// their own (`Anonymous: 0 kB`): a page written since it was mapped — text relocated by the loader, a debugger's
    /// breakpoint — would be lost to `MADV_DONTNEED`, so such a mapping is left alone whole. (`/proc/self/maps`
    /// lines, without the per-mapping figures, read as holding none.)
    public static func fileBackedReadOnly(_ text: [UInt8]) -> [Mapping] {
        var result: [Mapping] = []
        var candidate: Mapping?
        func settle() {
            if let candidate { result.append(candidate) }
            candidate = nil
        }
        let anonymous = Array("Anonymous:".utf8)
        for line in text.split(separator: UInt8(ascii: "\n")) {
            let fields = line.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: true)
            if fields.first.map({ $0.elementsEqual(anonymous) }) == true {
                // "Anonymous:   N kB" of the mapping above
                if fields.count >= 2, fields[1].contains(where: { $0 != UInt8(ascii: "0") }) { candidate = nil }
                continue
            }
            // start-end perms offset dev inode [path]; any other line is a figure of the mapping above.
            guard fields.count >= 5, fields[1].count == 4, let dash = fields[0].firstIndex(of: UInt8(ascii: "-")),
                let start = hex(fields[0][..<dash]), let end = hex(fields[0][(dash + 1)...]), end > start
            else { continue }
            settle()
            guard fields.count >= 6, fields[1][fields[1].startIndex + 1] != UInt8(ascii: "w"),
                fields[4].contains(where: { $0 != UInt8(ascii: "0") }), fields[5].first == UInt8(ascii: "/")
            else { continue }
            let executable = fields[1][fields[1].startIndex + 2] == UInt8(ascii: "x")
            candidate = Mapping(start: start, end: end, executable: executable)
        }
        settle()
        return result
    }

    private static func hex(_ digits: ArraySlice<UInt8>) -> UInt? {
        guard !digits.isEmpty, digits.count <= 16 else { return nil }
        var value: UInt = 0
        for digit in digits {
            switch digit {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = value << 4 | UInt(digit - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): value = value << 4 | UInt(digit - UInt8(ascii: "a") + 10)
            default: return nil
            }
        }
        return value
    }

    private static func readSmaps() -> [UInt8]? {
        let fd = open("/proc/self/smaps", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var text: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16384)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            text.append(contentsOf: chunk[..<count])
        }
        return text
    }
}
