"""Reading TOML files into dicts, with errors that name the file, line and column."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

from envguard.errors import ProjectError
from envguard.report import Problem

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

__all__ = ["read_toml"]

_AT = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")
_AT_END = re.compile(r"\s*\(at end of document\)\s*$")


def _fail(
    path: Path, code: str, message: str, line: int | None = None, col: int | None = None
) -> ProjectError:
    where = str(path)
    if line is not None:
        where += f":{line}" if col is None else f":{line}:{col}"
    return ProjectError(
        [
            Problem(
                key=None,
                source=where,
                code=code,
                message=f"{path}: {message}" if line is None else f"{where}: {message}",
                category="project",
                file=str(path),
                line=line,
                column=col,
            )
        ]
    )


def read_toml(path: Path, *, code_prefix: str = "project") -> dict[str, Any]:
    """Parse ``path`` as TOML, or raise a one-problem ``ProjectError``.

    Codes: ``<prefix>_missing``, ``<prefix>_unreadable``, ``<prefix>_encoding`` and
    ``<prefix>_syntax`` (with the line and column of the error).
    """
    error: ProjectError | None = None
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        error = _fail(path, f"{code_prefix}_missing", "file not found")
    except IsADirectoryError:
        error = _fail(path, f"{code_prefix}_unreadable", "is a directory, not a file")
    except OSError as exc:
        error = _fail(path, f"{code_prefix}_unreadable", f"cannot read: {exc.strerror}")
    if error is not None:
        raise error
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        error = _fail(
            path,
            f"{code_prefix}_encoding",
            "is not valid UTF-8",
            data.count(b"\n", 0, exc.start) + 1,
        )
    if error is not None:
        raise error
    try:
        return tomllib.loads(text.removeprefix("\ufeff"))
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        match = _AT.search(message)
        at_line = int(match.group(1)) if match else None
        at_col = int(match.group(2)) if match else None
        reason = _AT.sub("", message) if match else message
        if match is None and _AT_END.search(message):
            # An unclosed array or string: point at the last line rather than nowhere.
            at_line = len(text.splitlines()) or 1
            reason = _AT_END.sub(" (at end of file)", message)
        error = _fail(path, f"{code_prefix}_syntax", f"invalid TOML: {reason}", at_line, at_col)
    raise error
