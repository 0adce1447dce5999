"""An in-memory source: a test double for the Source protocol that users can use too."""

from __future__ import annotations

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

__all__ = ["StaticSource"]


class StaticSource(Source):
    """Values from a mapping, e.g. ``StaticSource({"PORT": "8080"}, name="defaults")``.

    In a project file: ``{ static = { PORT = "8080" } }``. Non-string scalars are converted
    with ``str()`` (``true`` becomes ``"true"``) so they validate like environment strings.
    """

    kind = "static"
    entry_keys = frozenset({"name", "sensitive"})

    def __init__(
        self, values: Mapping[str, object], *, name: str = "static", sensitive: bool = False
    ) -> None:
        self._values = {str(k): _as_text(v) for k, v in values.items()}
        self.name = name
        self.is_sensitive = sensitive

    @classmethod
    def from_entry(cls, entry: Mapping[str, Any], ctx: BuildContext) -> Self:
        check_entry_keys(cls, entry, ctx)
        values = entry["static"]
        if not isinstance(values, Mapping):
            raise entry_problem(ctx, "a static source takes a table of KEY = value pairs")
        if not isinstance(entry.get("sensitive", False), bool):
            raise entry_problem(ctx, "sensitive must be true or false in a static source")
        return cls(
            values,
            name=str(entry.get("name", "static")),
            sensitive=bool(entry.get("sensitive", False)),
        )

    def describe(self) -> str:
        return self.name

    def fetch(self, deadline: Deadline) -> Fetched:
        origin = Origin(self.name)
        return Fetched({k: Value(v, origin, self.is_sensitive) for k, v in self._values.items()})


def _as_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
