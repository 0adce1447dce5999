"""A dotenv file as a source (``{ dotenv = ".env.staging", optional = true }``).

Reading is defensive: the path is ``stat``-ed before it is opened (a FIFO would block), the
file is opened non-blocking and checked again, at most :data:`MAX_DOTENV_BYTES` are read, and
the bytes must be UTF-8 (the parser drops a leading BOM). A file that cannot be read raises
one of these, each with one problem (category ``source``) naming the file:

* ``dotenv_missing``: :class:`~envguard.errors.SourceNotFound` (unless ``optional``).
* ``dotenv_permission_denied``: :class:`~envguard.errors.SourceDenied`.
* ``dotenv_not_a_file`` (a directory, FIFO, socket or device), ``dotenv_too_large``,
  ``dotenv_encoding`` (not UTF-8, or a NUL byte; names the line), ``dotenv_unreadable``
  (any other ``OSError``): :class:`~envguard.errors.SourceError`.

Problems inside a readable file are returned with the values: see
:mod:`envguard.sources._dotenv_parse` for the grammar and those problem codes.
"""

from __future__ import annotations

import codecs
import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from envguard.errors import ConfigError, SourceDenied, SourceError, SourceNotFound
from envguard.report import Problem
from envguard.sources._dotenv_parse import parse_dotenv
from envguard.sources.base import (
    BuildContext,
    Fetched,
    Source,
    check_entry_keys,
    entry_problem,
)

if TYPE_CHECKING:
    from typing_extensions import Self

    from envguard.sources._retry import Deadline

__all__ = ["MAX_DOTENV_BYTES", "DotenvSource"]

#: The largest dotenv file envguard reads; a larger one is an error, not a truncation.
MAX_DOTENV_BYTES = 4 * 1024 * 1024

_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)


class DotenvSource(Source):
    """The ``KEY=value`` pairs of a dotenv file, each with its file and line.

    Values are not secret by default (the schema decides), except those whose key looks
    secret (``*_TOKEN``, ``DB_PASSWORD``), URLs holding a password, and values expanded from
    such keys: those are marked sensitive so they are masked even when not in the schema.

    Args:
        path: the file; a relative path is relative to the current directory.
        optional: a missing file gives no values instead of an error.
        interpolate: expand ``${VAR}`` and ``${VAR:-default}`` outside single quotes.
        display: how to name the file in :meth:`describe` (the path as the project file
            writes it); by default the path relative to the current directory.
        environ: the process environment that ``${VAR}`` may read; None means
            ``os.environ`` at fetch time.
        encoding: the file's encoding (default UTF-8), as pydantic-settings'
            ``env_file_encoding``.
        depth: when a relative ``path`` is not in the current directory, look for it in up
            to this many parent directories, as pydantic-settings' ``env_file_depth``.
    """

    kind = "dotenv"
    entry_keys = frozenset({"optional", "interpolate", "encoding"})

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        optional: bool = False,
        interpolate: bool = True,
        display: str | None = None,
        environ: Mapping[str, str] | None = None,
        encoding: str | None = None,
        depth: int = 0,
    ) -> None:
        self.path = Path(path)
        self.encoding = encoding or "utf-8"
        self.depth = depth
        self.optional = optional
        self.interpolate = interpolate
        self.file = _file_label(self.path)
        self.display = display if display is not None else self.file
        self._environ = environ

    @classmethod
    def from_entry(cls, entry: Mapping[str, Any], ctx: BuildContext) -> Self:
        check_entry_keys(cls, entry, ctx)
        written = entry["dotenv"]
        if not isinstance(written, str) or not written.strip():
            raise entry_problem(ctx, 'a dotenv source is written { dotenv = "path/to/.env" }')
        for flag in ("optional", "interpolate"):
            if not isinstance(entry.get(flag, True), bool):
                raise entry_problem(ctx, f"{flag!r} of dotenv {written} must be true or false")
        encoding = entry.get("encoding")
        if encoding is not None and not _known_encoding(encoding):
            raise entry_problem(ctx, f"'encoding' of dotenv {written} is not a known encoding")
        path = Path(written)
        return cls(
            path if path.is_absolute() else ctx.base_dir / path,
            optional=entry.get("optional", False),
            interpolate=entry.get("interpolate", True),
            display=written,
            environ=ctx.environ,
            encoding=encoding,
        )

    def describe(self) -> str:
        return f"dotenv {self.display}"

    def fetch(self, deadline: Deadline) -> Fetched:
        data = self._read()
        if data is None:
            return Fetched()
        text = self._decode(data)
        environ = os.environ if self._environ is None else self._environ
        if environ is os.environ and self.interpolate and "${" in text:
            environ = dict(environ)  # a plain dict is much faster to look up than os.environ
        return parse_dotenv(
            text,
            file=self.file,
            source=self.describe(),
            interpolate=self.interpolate,
            environ=environ,
        )

    def _error(
        self,
        code: str,
        message: str,
        *,
        line: int | None = None,
        cls: type[ConfigError] = SourceError,
    ) -> ConfigError:
        where = f"{self.file}:{line}" if line is not None else self.file
        problem = Problem(
            key=None,
            source=self.describe() if line is None else f"{self.describe()}:{line}",
            code=code,
            message=f"{where}: {message}",
            category=cls.category,
            file=self.file,
            line=line,
        )
        return cls([problem])

    def _located(self) -> Path:
        """The file to read: ``path``, or with ``depth`` the nearest parent directory's."""
        if self.depth <= 0 or self.path.is_absolute() or self.path.exists():
            return self.path
        for parent in list(Path.cwd().parents)[: self.depth]:
            candidate = parent / self.path
            if candidate.exists():
                return candidate
        return self.path

    def _read(self) -> bytes | None:
        """The file's bytes, or None when it is optional and missing.

        Errors are built inside ``except`` and raised after it, so that no ``OSError`` is
        left as their ``__context__``.
        """
        error: ConfigError | None = None
        data = b""
        path = self._located()
        try:
            info = os.stat(path)
            if not stat.S_ISREG(info.st_mode):
                error = self._not_a_file(info.st_mode)
            elif info.st_size > MAX_DOTENV_BYTES:
                error = self._too_large(info.st_size)
            else:
                fd = os.open(path, _OPEN_FLAGS)
                with os.fdopen(fd, "rb") as handle:
                    # Checked again on the open file: the path may have changed since stat.
                    mode = os.fstat(handle.fileno()).st_mode
                    if not stat.S_ISREG(mode):
                        error = self._not_a_file(mode)
                    else:
                        data = handle.read(MAX_DOTENV_BYTES + 1)
                        if len(data) > MAX_DOTENV_BYTES:
                            error = self._too_large(None)
        except (FileNotFoundError, NotADirectoryError):
            if self.optional:
                return None
            error = self._error("dotenv_missing", "file not found", cls=SourceNotFound)
        except PermissionError:
            error = self._error("dotenv_permission_denied", "permission denied", cls=SourceDenied)
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            error = self._error("dotenv_unreadable", f"cannot read the file ({reason})")
        if error is not None:
            raise error
        return data

    def _not_a_file(self, mode: int) -> ConfigError:
        what = "is a directory" if stat.S_ISDIR(mode) else "is not a regular file"
        return self._error("dotenv_not_a_file", what)

    def _too_large(self, size: int | None) -> ConfigError:
        shown = f"{size} bytes" if size is not None else f"over {MAX_DOTENV_BYTES} bytes"
        message = f"file is too large ({shown}; the limit is {MAX_DOTENV_BYTES} bytes)"
        return self._error("dotenv_too_large", message, cls=ConfigError)

    def _decode(self, data: bytes) -> str:
        utf16 = _utf16(data) if codecs.lookup(self.encoding).name == "utf-8" else None
        if utf16 is not None:
            message = f"is {utf16}, not UTF-8 (save it as UTF-8)"
            raise self._error("dotenv_encoding", message, cls=ConfigError)
        bad: int | None = None
        try:
            text = data.decode(self.encoding)
        except UnicodeDecodeError as exc:
            bad = exc.start
        if bad is not None:
            name = "UTF-8" if self.encoding == "utf-8" else self.encoding
            message = f"not valid {name} (the first invalid byte is on this line)"
            raise self._error("dotenv_encoding", message, line=_line_of(data, bad), cls=ConfigError)
        nul = text.find("\0")
        if nul != -1:
            message = "contains a NUL byte, which no environment variable can hold"
            before = text[:nul].encode("utf-8", "surrogatepass")
            line = _line_of(before, len(before))
            raise self._error("dotenv_encoding", message, line=line, cls=ConfigError)
        return text


def _utf16(data: bytes) -> str | None:
    """``"UTF-16"`` (or UTF-32) when ``data`` looks like it: a byte-order mark, or the NUL
    bytes that every other byte of ASCII text in UTF-16 is; else None."""
    if data.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        return "UTF-32"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "UTF-16"
    head = data[:64]
    if len(head) >= 4 and (
        head[1::2].count(0) == len(head) // 2 or head[0::2].count(0) == (len(head) + 1) // 2
    ):
        return "UTF-16"
    return None


def _known_encoding(name: object) -> bool:
    if not isinstance(name, str):
        return False
    try:
        codecs.lookup(name)
    except LookupError:
        return False
    return True


def _line_of(data: bytes, offset: int) -> int:
    """The 1-based line holding byte ``offset``; ``\\r\\n``, ``\\n`` and ``\\r`` end lines."""
    breaks = data.count(b"\n", 0, offset) + data.count(b"\r", 0, offset)
    return 1 + breaks - data.count(b"\r\n", 0, offset)


def _file_label(path: Path) -> str:
    """``path`` relative to the current directory when it is below it, with ``/``."""
    try:
        return Path(os.path.abspath(path)).relative_to(Path.cwd()).as_posix()
    except (ValueError, OSError):  # not below the current directory, or no such directory
        return path.as_posix()
