"""Reading TOML files (project and schema files), with problems naming the file, line and column.

Project and schema files are read the same way (a FIFO or device is reported, never opened
for a blocking read); only the codes and messages differ, by the kind of file:

- project: ``project_missing``, ``project_unreadable`` (a directory, a FIFO or device, an
  unreadable file), ``project_encoding`` (not UTF-8), ``project_syntax`` (not TOML);
- schema: ``schema_not_found``, ``schema_unreadable`` (as above, and not UTF-8),
  ``schema_syntax``.

A project problem names the file and position in its source and message
(``envguard.toml:2:15: invalid TOML: Invalid value``); a schema problem carries the file in
``source`` and the position in its message (``invalid TOML at line 2, column 15: ...``).
"""

from __future__ import annotations

import codecs
import collections
import hashlib
import os
import re
import stat
import sys
import threading
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Any, Generic, Literal, NamedTuple, TypeVar

from envguard.errors import ProjectError
from envguard.report import Problem

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

__all__ = ["FileKind", "TomlCache", "TomlFile", "load_toml", "read_toml"]

T = TypeVar("T")

FileKind = Literal["project", "schema"]

# tomllib (and tomli) end every message with the position, on all supported versions.
_POSITION = re.compile(r"\s*\(at (?:line (\d+), column (\d+)|end of document)\)\s*$")

#: The code and message of each failure, per kind of file.
_SHAPES: dict[FileKind, dict[str, tuple[str, str]]] = {
    "project": {
        "missing": ("project_missing", "file not found"),
        "directory": ("project_unreadable", "is a directory, not a file"),
        "special": ("project_unreadable", "is not a regular file"),
        "unreadable": ("project_unreadable", "cannot read: {reason}"),
        "encoding": ("project_encoding", "is not valid UTF-8"),
        "syntax": ("project_syntax", "invalid TOML: {reason}{at_end}"),
    },
    "schema": {
        "missing": ("schema_not_found", "schema file not found"),
        "directory": ("schema_unreadable", "schema path is a directory, not a file"),
        "special": ("schema_unreadable", "schema path is not a regular file"),
        "unreadable": ("schema_unreadable", "cannot read schema file: {reason}"),
        "encoding": (
            "schema_unreadable",
            "schema file is not valid UTF-8 (byte 0x{byte} at line {line}, column {column})",
        ),
        "syntax": ("schema_syntax", "invalid TOML at {where}: {reason}"),
    },
}


class TomlFile(NamedTuple):
    """A parsed TOML file."""

    data: dict[str, Any]
    #: The decoded text (without a byte order mark), for locating keys by line.
    text: str
    #: The file's status when it was read: a cache keyed on it misses any later change.
    stat: os.stat_result


class _Failure(NamedTuple):
    kind: str  # a key of the _SHAPES tables
    reason: str = ""
    line: int | None = None
    column: int | None = None
    byte: str = ""
    at_end: bool = False


def read_toml(path: str | os.PathLike[str], *, code_prefix: FileKind = "project") -> dict[str, Any]:
    """Parse ``path`` as TOML, or raise a one-problem ``ProjectError`` (see :func:`load_toml`)."""
    return load_toml(path, code_prefix=code_prefix).data


def load_toml(path: str | os.PathLike[str], *, code_prefix: FileKind = "project") -> TomlFile:
    """Read and parse ``path``; problems name it as given.

    Args:
        path: the file to read.
        code_prefix: the kind of file, which decides the codes and messages (see the module
            docstring).

    Raises:
        ProjectError: one problem saying why the file cannot be read or parsed. No
            ``OSError``, ``UnicodeDecodeError`` (it holds the raw bytes) or
            ``TOMLDecodeError`` is chained to it.
    """
    shown = os.fspath(path)
    result = _load(Path(shown))
    if isinstance(result, _Failure):
        raise ProjectError([_problem(shown, code_prefix, result)])
    return result


class TomlCache(Generic[T]):
    """What was built from TOML files, keyed by the file's path and *content*.

    A key of modification time and size would serve a stale result after a same-size edit
    made within the filesystem's timestamp granularity; reading a small file and hashing it
    costs microseconds. The cache is bounded (the least recently used entry goes first),
    holds no class alive beyond that bound, and is safe to share between threads.

    Args:
        size: how many results are kept.
    """

    def __init__(self, size: int = 64) -> None:
        self._size = size
        self._entries: collections.OrderedDict[tuple[Hashable, bytes], T] = (
            collections.OrderedDict()
        )
        self._lock = threading.Lock()

    def build(
        self,
        path: str | os.PathLike[str],
        key: Hashable,
        make: Callable[[TomlFile], T],
        *,
        code_prefix: FileKind = "project",
    ) -> T:
        """``make(file)`` for the file at ``path`` as it is now, or the result kept for the
        same ``key`` and the same bytes.

        Raises:
            ProjectError: as :func:`load_toml`, or from ``make`` (which is then not kept).
        """
        shown = os.fspath(path)
        read = _read(Path(shown))
        if isinstance(read, _Failure):
            raise ProjectError([_problem(shown, code_prefix, read)])
        data, st = read
        full = (key, hashlib.blake2b(data, digest_size=16).digest())
        with self._lock:
            hit = self._entries.get(full)
            if hit is not None:
                self._entries.move_to_end(full)
                return hit
        parsed = _parse(data, st)
        if isinstance(parsed, _Failure):
            raise ProjectError([_problem(shown, code_prefix, parsed)])
        value = make(parsed)
        with self._lock:
            self._entries[full] = value
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def _load(path: Path) -> TomlFile | _Failure:
    read = _read(path)
    if isinstance(read, _Failure):
        return read
    return _parse(*read)


def _parse(data: bytes, st: os.stat_result) -> TomlFile | _Failure:
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - data.rfind(b"\n", 0, exc.start)
        byte = data[exc.start : exc.start + 1].hex()
        return _Failure("encoding", line=line, column=column, byte=byte)
    try:
        return TomlFile(tomllib.loads(text), text, st)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
    match = _POSITION.search(message)
    reason = message[: match.start()] if match else message
    if match and match.group(1):
        line, column = int(match.group(1)), int(match.group(2))
        return _Failure("syntax", reason, line=line, column=column)
    # An unclosed array or string: point at the last line rather than nowhere.
    return _Failure("syntax", reason, line=len(text.splitlines()) or 1, at_end=True)


def _read(path: Path) -> tuple[bytes, os.stat_result] | _Failure:
    """The file's bytes and the status they were read under."""
    # Non-blocking, so that a FIFO named like a TOML file is reported instead of read.
    flags = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        return _Failure("missing")
    except OSError as exc:  # on Windows, opening a directory is "permission denied"
        return _Failure("directory") if path.is_dir() else _Failure("unreadable", _reason(exc))
    try:
        st = os.fstat(fd)  # before reading: a later change must miss a cache
        if stat.S_ISDIR(st.st_mode):
            return _Failure("directory")
        if not stat.S_ISREG(st.st_mode):
            return _Failure("special")
        with open(fd, "rb", closefd=False) as fh:
            return fh.read(), st
    except OSError as exc:
        return _Failure("unreadable", _reason(exc))
    finally:
        os.close(fd)


def _reason(exc: OSError) -> str:
    reason = exc.strerror or type(exc).__name__
    return reason[:1].lower() + reason[1:]  # "permission denied", as in run's messages


def _problem(file: str, kind: FileKind, failure: _Failure) -> Problem:
    code, template = _SHAPES[kind][failure.kind]
    text = template.format(
        reason=failure.reason,
        byte=failure.byte,
        line=failure.line,
        column=failure.column,
        at_end=" (at end of file)" if failure.at_end else "",
        where=(
            "end of document" if failure.at_end else f"line {failure.line}, column {failure.column}"
        ),
    )
    line, column = failure.line, failure.column
    if kind == "schema":
        return Problem(
            None, file, code, text, category="project", file=file, line=line, column=column
        )
    column = column if failure.kind == "syntax" else None
    where = (
        file if line is None else f"{file}:{line}" if column is None else f"{file}:{line}:{column}"
    )
    return Problem(
        None,
        where,
        code,
        f"{where}: {text}",
        category="project",
        file=file,
        line=line,
        column=column,
    )
