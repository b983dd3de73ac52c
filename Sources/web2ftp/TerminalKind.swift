@_spi(Internals) import Reactor
@_spi(Internals) import WebToFTP

/// What the terminal on stderr can show, decided from the environment: Unicode or plain ASCII (the locale's
/// character set), and whether lines can be redrawn in place (not on `TERM=dumb`, which has no cursor movement).
struct TerminalKind: Equatable {
    var unicode: Bool
    var redraws: Bool

    /// As a C program's `setlocale(LC_CTYPE, "")` would see it: the first of LC_ALL, LC_CTYPE and LANG that is set
    /// and not empty names the character set; none means the C locale, ASCII. `TERM=dumb` gets ASCII too (such
    /// terminals, Emacs' shell among them, often cannot draw ✓).
    init(environment: [String: String]) {
        let dumb = environment["TERM"] == "dumb"
        let locale = ["LC_ALL", "LC_CTYPE", "LANG"].lazy.compactMap { environment[$0] }.first { !$0.isEmpty } ?? ""
        let lowered = locale.lowercased()
        unicode = !dumb && (lowered.containsUTF8("utf-8") || lowered.containsUTF8("utf8"))
        redraws = !dumb
    }

    init(unicode: Bool, redraws: Bool) {
        self.unicode = unicode
        self.redraws = redraws
    }

    var ok: String { unicode ? "✓" : "ok" }
    var failed: String { unicode ? "✗" : "FAIL" }
    var again: String { unicode ? "↻" : "retry" }
    var arrow: String { unicode ? "→" : "->" }
    var dot: String { unicode ? " · " : ", " }
}
