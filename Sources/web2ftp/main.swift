import Glibc
@_spi(Internals) import WebToFTP

/// Writes to a file descriptor directly: Swift 6 rejects the C `stderr` global (PLATFORM.md).
func writeOut(_ text: String, to fd: Int32) {
    var text = text
    text.withUTF8 { bytes in
        var offset = 0
        while offset < bytes.count {
            let written = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if written <= 0 { return }
            offset += written
        }
    }
}

let arguments = Array(CommandLine.arguments.dropFirst())

guard let first = arguments.first else {
    writeOut("web2ftp: missing command (manual, schedule, check, preview …)\n\n" + Usage.text + "\n", to: 2)
    exit(2)
}
switch first {
case "-h", "--help":
    writeOut(Usage.text + "\n", to: 1)
    exit(0)
case "-V", "--version":
    writeOut("web2ftp \(Web2FTP.version)\n", to: 1)
    exit(0)
case "help":
    // `web2ftp help` alone is `--help`; `web2ftp help get` is `web2ftp get --help`.
    // `web2ftp help help` is the whole help too: `help` is among the commands the error message offers.
    guard arguments.count > 1, arguments[1...] != ["help"] else {
        writeOut(Usage.text + "\n", to: 1)
        exit(0)
    }
    guard arguments.count == 2, let command = Command.named(arguments[1]) else {
        let word = arguments.count == 2 ? arguments[1] : arguments.dropFirst().joined(separator: " ")
        writeOut("web2ftp help: \(Command.unknown(word))\n", to: 2)
        exit(2)
    }
    writeOut(command.help + "\n", to: 1)
    exit(0)
default:
    guard let command = Command.named(first) else {
        writeOut("web2ftp: \(Command.unknown(first))\n", to: 2)
        exit(2)
    }
    exit(command.run(Array(arguments.dropFirst())))
}
