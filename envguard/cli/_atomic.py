"""Reading and replacing a generated file: regular files only, never half-written.

One rule for both directions: a path that exists must be a regular file (possibly through
symlinks); a new file may only be made in a directory that exists. A FIFO, socket, device
or directory is refused before it is opened, and no directory is ever created.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from pathlib import Path

__all__ = ["MAX_READ_BYTES", "NotRegularFile", "read_regular", "write_atomic"]

MAX_READ_BYTES = 16 * 1024 * 1024
"""``read_regular`` reads at most this many bytes (plus one, to tell a larger file)."""

# Non-blocking, so that a FIFO swapped in after the check is seen by fstat, not waited on.
_READ_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_NOCTTY", 0)
    | getattr(os, "O_BINARY", 0)
)

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


class NotRegularFile(OSError):
    """The path is not one to read or write: its ``strerror`` says why, in one line."""

    def __init__(self, reason: str) -> None:
        super().__init__(errno.EINVAL, reason)


def _require_regular(mode: int) -> None:
    if not stat.S_ISREG(mode):
        kind = next((name for test, name in _KINDS if test(mode)), "a special file")
        raise NotRegularFile(f"is {kind}, not a regular file")


def _existing(path: Path) -> os.stat_result | None:
    """The status of the file ``path`` names (symlinks followed), or None if there is none.

    Raises:
        NotRegularFile: it exists but is not a regular file.
        OSError: it could not be looked at (permission denied, a symlink loop).
    """
    try:
        info = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    _require_regular(info.st_mode)
    return info


def read_regular(path: Path, limit: int = MAX_READ_BYTES) -> bytes | None:
    """The first ``limit + 1`` bytes of the regular file ``path``, or None if it is missing.

    More than ``limit`` bytes returned means the file is larger than ``limit``.

    Raises:
        NotRegularFile: it exists but is not a regular file; it is never read from.
        OSError: it could not be read.
    """
    if _existing(path) is None:
        return None
    try:
        fd = os.open(path, _READ_FLAGS)
    except (FileNotFoundError, NotADirectoryError):
        return None  # removed since the check
    with os.fdopen(fd, "rb") as fh:
        _require_regular(os.fstat(fd).st_mode)  # the path may have changed since the check
        return fh.read(limit + 1)


def _target(path: Path) -> tuple[Path, int | None]:
    """The real path to replace and the mode of the file there (None: a new file).

    Raises:
        NotRegularFile: ``path`` is not a regular file, or a new one's directory is missing.
    """
    info = _existing(path)
    target = Path(os.path.realpath(path))
    if info is not None:
        # A /proc/self/fd link to a deleted file resolves to another path: never replace it.
        try:
            real = os.stat(target)
        except OSError:
            real = None
        if real is None or (real.st_dev, real.st_ino) != (info.st_dev, info.st_ino):
            raise NotRegularFile("does not resolve to a path of a regular file")
        return target, stat.S_IMODE(info.st_mode)
    dangling = os.path.lexists(path)  # a symlink to a missing file: name where it points
    shown = target.parent if dangling else path.parent
    try:
        if stat.S_ISDIR(os.stat(target.parent).st_mode):
            return target, None
        problem = f"{shown} is not a directory"
    except (FileNotFoundError, NotADirectoryError):
        problem = f"directory {shown} does not exist"
    raise NotRegularFile(f"it links to {target}, and {problem}" if dangling else problem)


def write_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` all at once: a crash leaves the old file or the new one.

    The bytes go to a temporary file in the target's directory, are flushed to disk, then
    renamed over the target (a symlink is followed, and stays a symlink). An existing file
    keeps its permission bits; a new one gets 0o666 less the umask, not ``mkstemp``'s 0o600.
    Only a regular file, or a new file in an existing directory, is written; nothing is
    created otherwise. (Whoever could swap a device in before the rename can write to that
    directory, so could remove or replace its entries anyway.)

    Raises:
        NotRegularFile: see ``_target``; nothing was created.
        OSError: the file could not be written; the temporary file is removed first.
    """
    target, mode = _target(path)
    directory = target.parent
    if mode is None:
        umask = os.umask(0)  # reading the umask means setting it; put it straight back
        os.umask(umask)
        mode = 0o666 & ~umask
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    # Make the rename itself durable; directories cannot be opened on Windows.
    with contextlib.suppress(OSError, AttributeError):
        dir_fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
