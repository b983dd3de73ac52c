import Glibc

/// The terminal on a descriptor, as the kernel tells it: nothing here decides what to show (see `TerminalLines`,
/// `LiveLines`).
enum Terminal {
    static func isTerminal(_ fd: Int32) -> Bool { isatty(fd) == 1 }

    /// Columns of the terminal on `fd` (TIOCGWINSZ), asked at each redraw so that a resized window is followed
    /// without a SIGWINCH handler; 80 when the kernel does not say.
    static func width(_ fd: Int32 = 2) -> Int {
        var size = winsize()
        guard ioctl(fd, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return 80 }
        return Int(size.ws_col)
    }

    /// Up `lines` rows to the first one, then clear to the end of the screen: the live block goes away.
    static func eraseUp(_ lines: Int) -> String {
        lines > 0 ? "\u{1B}[\(lines)A\r\u{1B}[J" : ""
    }
}
