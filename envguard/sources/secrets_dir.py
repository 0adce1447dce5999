"""A directory of secret files as a source: one file per key, as Docker and Kubernetes mount them.

Each regular file directly in the directory is a key (its name) whose value is the file's
text with surrounding whitespace stripped, as pydantic-settings' ``secrets_dir`` reads it.
Every value is sensitive. Kubernetes' projected-volume layout works as mounted: the keys are
symlinks into a ``..data`` directory, and entries whose names start with ``..`` are that
machinery, not keys. A symlink that resolves outside the directory is refused (reported,
never followed), as are files over :data:`MAX_SECRET_BYTES` and files that are not UTF-8;
problems name the file, never its content.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from envguard.errors import SourceDenied, SourceError, SourceNotFound
from envguard.report import Problem
from envguard.sources.base import (
    BuildContext,
    Fetched,
    Origin,
    Source,
    Value,
    check_entry_keys,
    entry_problem,
)

if TYPE_CHECKING:
    from typing_extensions import Self

    from envguard.sources._retry import Deadline

__all__ = ["MAX_SECRET_BYTES", "SecretsDirSource"]

#: The largest secret file read; a larger one is reported, not truncated.
MAX_SECRET_BYTES = 1024 * 1024

_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)


class SecretsDirSource(Source):
    """The files of a secrets directory, each a key (``{ secrets_dir = "/run/secrets" }``).

    Args:
        path: the directory; a relative path is relative to the current directory.
        optional: a missing directory gives a warning and no values instead of an error.
        display: how to name the directory in :meth:`describe`.
    """

    kind = "secrets_dir"
    entry_keys = frozenset({"optional"})
    sensitive = True
    matching = "secrets"

    def __init__(
        self, path: str | os.PathLike[str], *, optional: bool = False, display: str | None = None
    ) -> None:
        self.path = Path(path).expanduser()
        self.optional = optional
        self.display = display if display is not None else self.path.as_posix()

    @classmethod
    def from_entry(cls, entry: Mapping[str, Any], ctx: BuildContext) -> Self:
        check_entry_keys(cls, entry, ctx)
        written = entry["secrets_dir"]
        if not isinstance(written, str) or not written.strip():
            raise entry_problem(
                ctx, 'a secrets_dir source is written { secrets_dir = "/run/secrets" }'
            )
        if not isinstance(entry.get("optional", False), bool):
            raise entry_problem(ctx, f"'optional' of secrets_dir {written} must be true or false")
        path = Path(written).expanduser()
        return cls(
            path if path.is_absolute() else ctx.base_dir / path,
            optional=entry.get("optional", False),
            display=written,
        )

    def describe(self) -> str:
        return f"secrets-dir {self.display}"

    def _problem(
        self, code: str, message: str, *, file: str | None = None, warning: bool = False
    ) -> Problem:
        where = f"{self.display}/{file}" if file else self.display
        return Problem(
            None,
            f"secrets-dir {where}",
            code,
            f"{where}: {message}",
            severity="warning" if warning or file else "error",
            category="source",
        )

    def fetch(self, deadline: Deadline) -> Fetched:
        failure: SourceError | None = None
        names: list[str] = []
        try:
            info = os.stat(self.path)
            if not stat.S_ISDIR(info.st_mode):
                problem = self._problem("secrets_dir_not_a_directory", "is not a directory")
                failure = SourceError([problem])
            else:
                names = sorted(os.listdir(self.path))
        except FileNotFoundError:
            missing = self._problem(
                "secrets_dir_missing", "directory does not exist", warning=self.optional
            )
            if self.optional:
                return Fetched(problems=[missing])
            failure = SourceNotFound([missing])
        except PermissionError:
            denied = self._problem("secrets_dir_permission_denied", "permission denied")
            failure = SourceDenied([denied])
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            unreadable = self._problem(
                "secrets_dir_unreadable", f"cannot read the directory ({reason})"
            )
            failure = SourceError([unreadable])
        if failure is not None:
            raise failure
        root = self.path.resolve()
        out = Fetched()
        for name in names:
            if name.startswith(".."):
                continue  # Kubernetes' ..data and timestamped directories
            read = self._read(root, name, out)
            if read is not None:
                origin = Origin(f"secrets-dir {self.display}/{name}")
                out.values[name] = Value(read, origin, sensitive=True)
        return out

    def _read(self, root: Path, name: str, out: Fetched) -> str | None:
        """One file's stripped text, or None (with a problem when it is refused)."""
        path = self.path / name
        reason: tuple[str, str] | None = None
        data = b""
        try:
            resolved = path.resolve()
            if root not in resolved.parents:
                reason = ("secrets_dir_outside", f"resolves outside {self.display}; not read")
            else:
                info = os.stat(resolved)
                if not stat.S_ISREG(info.st_mode):
                    return None  # a directory or device is not a key
                if info.st_size > MAX_SECRET_BYTES:
                    reason = ("secrets_dir_too_large", f"is over {MAX_SECRET_BYTES} bytes")
                else:
                    fd = os.open(resolved, _OPEN_FLAGS)
                    with os.fdopen(fd, "rb") as handle:
                        data = handle.read(MAX_SECRET_BYTES + 1)
                    if len(data) > MAX_SECRET_BYTES:
                        reason = ("secrets_dir_too_large", f"is over {MAX_SECRET_BYTES} bytes")
        except (OSError, RuntimeError) as exc:  # RuntimeError: a symlink loop on Python < 3.13
            strerror = exc.strerror if isinstance(exc, OSError) else None
            detail = strerror or type(exc).__name__
            reason = ("secrets_dir_unreadable", f"cannot be read ({detail})")
        if reason is None:
            try:
                return data.decode("utf-8").strip()
            except UnicodeDecodeError:
                reason = ("secrets_dir_encoding", "is not valid UTF-8")
        out.problems.append(self._problem(*reason, file=name))
        return None
