"""The ``envguard`` command line (typer). Imported only by the console script.

:func:`main` is the entry point. Its first act is to make Ctrl-C end the process at once
(exit 130, one line, no traceback), and only then does it import typer and the rest, so a
Ctrl-C while they load ends the process like any later one.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from collections.abc import Sequence
from typing import NoReturn

__all__ = ["EXIT_INTERRUPTED", "main"]

#: The shell's code for a process ended by SIGINT.
EXIT_INTERRUPTED = 130


def interrupted(*_: object) -> NoReturn:
    """End the process at once after a Ctrl-C: a second Ctrl-C is ignored, nothing waits for
    threads still reading a remote source, and no traceback is printed. Installed as the
    SIGINT handler for the whole run (``run`` replaces the process with CMD, whose own
    handling then applies)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with contextlib.suppress(Exception):  # a closed or broken stdout must not stop the exit
        sys.stdout.flush()
    os.write(2, b"envguard: interrupted\n")
    os._exit(EXIT_INTERRUPTED)


def main(argv: Sequence[str] | None = None) -> NoReturn:
    """The console script's entry point."""
    signal.signal(signal.SIGINT, interrupted)
    try:
        from envguard.cli.app import run

        code = run(argv)
    except KeyboardInterrupt:
        interrupted()
    if code == EXIT_INTERRUPTED:
        interrupted()
    sys.exit(code)
