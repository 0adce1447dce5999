"""The process environment as a source (``{ env = true }``)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

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

__all__ = ["EnvSource"]

_ORIGIN = Origin("env")


class EnvSource(Source):
    """Every variable of the process environment (or of ``environ``, for tests)."""

    kind = "env"
    matching = "env"

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self._environ = environ

    @classmethod
    def from_entry(cls, entry: Mapping[str, Any], ctx: BuildContext) -> Self:
        check_entry_keys(cls, entry, ctx)
        if entry["env"] is not True:
            raise entry_problem(ctx, "an env source is written { env = true }")
        return cls(ctx.environ)

    def describe(self) -> str:
        return "env"

    def fetch(self, deadline: Deadline) -> Fetched:
        if self._environ is not None and self._environ is not os.environ:
            return Fetched({k: Value(v, _ORIGIN) for k, v in self._environ.items()})
        return Fetched({k: Value(v, _ORIGIN) for k, v in _process_environ()})


def _process_environ() -> Iterable[tuple[str, str]]:
    """``os.environ.items()``, several times faster on POSIX.

    ``os.environ`` decodes every key and value through two Python-level calls per item;
    decoding its underlying bytes mapping directly gives the same strings (same encoding,
    same ``surrogateescape`` handler) at C speed.
    """
    data = getattr(os.environ, "_data", None)
    if os.name != "posix" or not isinstance(data, dict):
        return os.environ.items()
    encoding = sys.getfilesystemencoding()
    return [
        (k.decode(encoding, "surrogateescape"), v.decode(encoding, "surrogateescape"))
        for k, v in data.items()
    ]
