import Glibc

// Output plumbing the examples share; nothing here is web2ftp's API. Swift 6 refuses the C stdio globals (shared
// mutable state): the examples write to the descriptors.

/// Writes all of `bytes` to `fd` (stdout 1, stderr 2), or stops at the first error.
public func writeAll(_ bytes: UnsafeRawBufferPointer, to fd: Int32) {
    var offset = 0
    while offset < bytes.count {
        let written = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
        if written <= 0 { return }
        offset += written
    }
}

/// One line on stderr.
public func printError(_ text: String) {
    var line = Array(text.utf8)
    if line.last != 10 { line.append(10) }
    line.withUnsafeBytes { writeAll($0, to: 2) }
}
