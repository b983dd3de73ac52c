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

if arguments.contains("--help") || arguments.contains("-h") {
    writeOut(Usage.text + "\n", to: 1)
    exit(0)
}
if arguments.contains("--version") || arguments.contains("-V") {
    writeOut("web2ftp \(Web2FTP.version)\n", to: 1)
    exit(0)
}

if arguments.first == "get" {
    exit(GetCommand.run(Array(arguments.dropFirst())))
}

guard let mode = arguments.first else {
    writeOut("web2ftp: missing mode (manual or schedule)\n\n" + Usage.text + "\n", to: 2)
    exit(2)
}
switch mode {
case "manual":
    exit(RunCommand.run(Array(arguments.dropFirst())))
case "schedule":
    exit(ScheduleCommand.run(Array(arguments.dropFirst())))
case "next-run":
    exit(NextRunCommand.run(Array(arguments.dropFirst())))
default:
    writeOut("web2ftp: unknown mode '\(mode)': expected manual or schedule (see --help)\n", to: 2)
    exit(2)
}
