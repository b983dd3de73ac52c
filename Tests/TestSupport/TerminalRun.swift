import Foundation

/// What a terminal showed while one of the package's executables ran on it (scripts/lib/pty-screen.py: a
/// pseudo-terminal of the given width, read through the pyte terminal emulator).
public struct TerminalRun: Sendable {
    public let status: Int32
    /// The screen at the end, one string per row, trailing blanks dropped.
    public let screen: [String]
    /// The screen when each `snapshot` action ran.
    public let snapshots: [[String]]
    public let timedOut: Bool
    /// Every byte the program wrote to the terminal, as text.
    public let raw: String

    /// The rows that are not empty, joined by newlines: for messages.
    public var shown: String { screen.filter { !$0.isEmpty }.joined(separator: "\n") }
}

/// One step of a terminal session: when `text` is on the screen, do `action` (`snapshot`, `ctrl-c`, `sigterm`,
/// `sleep:SECONDS`).
public struct TerminalStep: Sendable {
    public let text: String
    public let action: String

    public init(when text: String, _ action: String) {
        self.text = text
        self.action = action
    }
}

/// Runs `name ARGUMENTS` on a pseudo-terminal `columns` wide (UTF-8 locale, TERM=xterm-256color unless
/// `environment` says otherwise) and reports what it showed.
public func runOnTerminal(
    _ name: String, _ arguments: [String], columns: Int, environment: [String: String] = [:],
    steps: [TerminalStep] = [], timeoutSeconds: Int = 60
) throws -> TerminalRun {
    let executable = try productProcess(name, [], environment: [:]).executableURL!.path
    let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("scripts/lib/pty-screen.py").path
    var helper = ["python3", script, "--cols", "\(columns)", "--timeout", "\(timeoutSeconds)"]
    let environment = ["XDG_STATE_HOME": freshStateHome()].merging(environment) { $1 }
    for (key, value) in environment.sorted(by: { $0.key < $1.key }) { helper += ["--env", "\(key)=\(value)"] }
    for step in steps { helper += ["--on", step.text, step.action] }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = helper + ["--", executable] + arguments
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    let errors = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0,
        let json = try JSONSerialization.jsonObject(with: data) as? [String: Any],
        let status = json["status"] as? Int, let screen = json["screen"] as? [String]
    else {
        throw TestFailure(
            "pty-screen.py failed (is pyte installed? scripts/install-deps.sh installs it): "
                + String(decoding: errors, as: UTF8.self))
    }
    return TerminalRun(
        status: Int32(status), screen: screen, snapshots: json["snapshots"] as? [[String]] ?? [],
        timedOut: json["timed_out"] as? Bool ?? false, raw: json["raw"] as? String ?? "")
}
