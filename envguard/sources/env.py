"""The process environment as a source (``{ env = true }``)."""

from __future__ import annotations

import os
from collections.abc import Mapping
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
        environ = os.environ if self._environ is None else self._environ
        return Fetched({k: Value(v, _ORIGIN) for k, v in environ.items()})
