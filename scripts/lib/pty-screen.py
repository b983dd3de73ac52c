#!/usr/bin/env python3
"""Runs a command under a pseudo-terminal of a given size and reports what a terminal would show.

The tests of web2ftp's terminal output (Tests/TestSupport/TerminalRun.swift) drive it: the command's output goes
through pyte, a VT100 emulator, so cursor movement, erasing and line cutting are judged as a screen shows them, not
as raw bytes.

  pty-screen.py --cols 40 [--rows 60] [--timeout 60] [--env K=V]... [--on TEXT ACTION]... -- COMMAND ARG...

Each --on waits (in order) for TEXT to be on the screen, then does ACTION: `snapshot` (record the screen), `ctrl-c`
(type Ctrl-C: the terminal sends SIGINT to the foreground process group), `sigterm`, or `sleep:SECONDS`.
Prints one JSON object: {"status": exit code or -signal, "screen": [rows], "snapshots": [[rows], ...],
"timed_out": bool, "raw": the bytes as text}.
"""
import argparse
import fcntl
import json
import os
import pty
import select
import signal
import struct
import sys
import termios
import time

import pyte


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cols", type=int, required=True)
    parser.add_argument("--rows", type=int, default=60)
    parser.add_argument("--timeout", type=float, default=60)
    parser.add_argument("--env", action="append", default=[])
    parser.add_argument("--on", nargs=2, action="append", default=[], metavar=("TEXT", "ACTION"))
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command

    environment = dict(os.environ)
    environment.update({"TERM": "xterm-256color", "LANG": "C.UTF-8", "COLUMNS": str(args.cols)})
    environment.pop("LC_ALL", None)
    environment.pop("LC_CTYPE", None)
    for pair in args.env:
        key, _, value = pair.partition("=")
        environment[key] = value

    pid, master = pty.fork()
    if pid == 0:
        # The child's terminal gets its size before the command starts, as a terminal window's would.
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", args.rows, args.cols, 0, 0))
        try:
            os.execvpe(command[0], command, environment)
        finally:
            os._exit(127)

    screen = pyte.Screen(args.cols, args.rows)
    stream = pyte.ByteStream(screen)
    raw = bytearray()
    snapshots = []
    pending = list(args.on)
    deadline = time.monotonic() + args.timeout
    timed_out = False

    def rows():
        return [line.rstrip() for line in screen.display]

    def act():
        while pending and pending[0][0] in "\n".join(rows()):
            _, action = pending.pop(0)
            if action == "snapshot":
                snapshots.append(rows())
            elif action == "ctrl-c":
                os.write(master, b"\x03")
            elif action == "sigterm":
                os.kill(pid, signal.SIGTERM)
            elif action.startswith("sleep:"):
                time.sleep(float(action[6:]))

    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            timed_out = True
            os.kill(pid, signal.SIGKILL)
            break
        ready, _, _ = select.select([master], [], [], min(left, 0.2))
        if ready:
            try:
                data = os.read(master, 65536)
            except OSError:
                break
            if not data:
                break
            raw.extend(data)
            stream.feed(data)
        act()
    _, status = os.waitpid(pid, 0)
    code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else -os.WTERMSIG(status)
    json.dump(
        {
            "status": code,
            "screen": rows(),
            "snapshots": snapshots,
            "timed_out": timed_out,
            "raw": raw.decode("utf-8", "replace"),
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main()
