"""What ``show`` and ``explain`` read from an outcome: lookups, secrecy and masking in one place.

A key is secret when any value a source offered for it is secret (by the schema, the source,
its name or a password in a URL): the overridden copies are masked too, since they are often
the same secret. Every secret value also teaches the outcome's redactor, so a plain value
that happens to contain one is scrubbed before it is shown.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
from typing import Annotated, Any

import typer
from pydantic_core import to_jsonable_python

from envguard.cli._options import Format
from envguard.engine import Outcome
from envguard.report import MASK, Problem
from envguard.schema.fields import MISSING, VarSpec, variables
from envguard.schema.types import format_duration
from envguard.sources.base import Value
from envguard.validate import is_secret

__all__ = ["NOT_SET", "Inspection", "OutputFormat", "OutputFormatOpt", "printable", "scalar"]

#: Shown in place of the value of a schema variable that no source sets.
NOT_SET = "(not set)"


class OutputFormat(str, enum.Enum):
    """Output formats of ``show`` and ``explain`` (data commands: no GitHub annotations)."""

    text = "text"
    json = "json"

    @property
    def as_format(self) -> Format:
        return Format(self.value)


OutputFormatOpt = Annotated[
    OutputFormat, typer.Option("--format", "-f", help="Output format.", case_sensitive=False)
]


def printable(text: str) -> str:
    """``text`` with control characters escaped (``\\n``), so one value stays on one line."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def scalar(value: Any) -> str:
    """A JSON-ready value as one line of text: strings plain, anything else as JSON."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.timedelta):
        return format_duration(value)
    try:
        return to_jsonable_python(value)
    except Exception:  # noqa: BLE001 - an exotic default is shown by its str()
        return str(value)


class Inspection:
    """One outcome, read the way validation read it (case-insensitively unless declared)."""

    def __init__(self, outcome: Outcome) -> None:
        self.outcome = outcome
        self.specs = variables(outcome.model)
        self.case_sensitive = bool(outcome.model.model_config.get("case_sensitive"))
        self.redactor = outcome.redactor
        self._specs = {self.norm(s.name): s for s in self.specs}
        # Like validation's lookup: when spellings collide, the last one in the dict wins.
        self._values = {self.norm(k): (k, v) for k, v in outcome.resolution.values.items()}
        self._secret: set[str] = set()
        for key, offered in outcome.resolution.offered.items():
            spec = self.spec(key)
            if any(is_secret(spec, key, v) for v in offered):
                self._secret.add(self.norm(key))
                for value in offered:
                    self.redactor.add(value.text)
        self._problems: dict[str, list[Problem]] = {}
        for problem in outcome.problems:
            if problem.key is not None:
                self._problems.setdefault(self.norm(problem.key), []).append(problem)

    def norm(self, name: str) -> str:
        return name if self.case_sensitive else name.upper()

    def spec(self, name: str) -> VarSpec | None:
        return self._specs.get(self.norm(name))

    def value(self, name: str) -> tuple[str, Value] | None:
        """The resolved key's spelling and winning value, or None when no source set it."""
        return self._values.get(self.norm(name))

    def names(self) -> list[str]:
        """Every resolved key's spelling, in resolution order."""
        return [name for name, _ in self._values.values()]

    def offered(self, name: str) -> list[Value]:
        """Every value offered for ``name`` by any spelling, in precedence order."""
        keys = [k for k in self.outcome.resolution.offered if self.norm(k) == self.norm(name)]
        if len(keys) == 1:
            return list(self.outcome.resolution.offered[keys[0]])
        rank = {s.source: i for i, s in enumerate(self.outcome.resolution.statuses)}
        values = [v for k in keys for v in self.outcome.resolution.offered[k]]
        return sorted(values, key=lambda v: rank.get(v.origin.source, -1))

    def is_secret(self, name: str) -> bool:
        spec = self.spec(name)
        if spec is not None and spec.secret is not None:
            return spec.secret
        return self.norm(name) in self._secret or (spec is not None and spec.is_secret)

    def shown(self, name: str, value: Value) -> str:
        """The value as it may be printed: masked when secret, else scrubbed."""
        return MASK if self.is_secret(name) else self.redactor.scrub(value.text)

    def problems(self, name: str) -> list[Problem]:
        return [self.redactor.scrub_problem(p) for p in self._problems.get(self.norm(name), [])]

    def status(self, name: str) -> str:
        """``valid``, ``invalid``, ``missing`` (required, not set), ``default`` or
        ``undeclared``."""
        errors = [p for p in self.problems(name) if p.severity == "error"]
        if self.spec(name) is None:
            return "invalid" if errors else "undeclared"
        if self.value(name) is None:
            return "missing" if errors else "default"
        return "invalid" if errors else "valid"

    def default(self, spec: VarSpec) -> Any:
        """The spec's default, JSON-ready and masked when secret; None when required."""
        if spec.default is MISSING:
            return None
        if spec.default is not None and self.is_secret(spec.name):
            return MASK
        return _jsonable(spec.default)

    def constraints(self, spec: VarSpec) -> dict[str, Any]:
        return {k: _jsonable(v) for k, v in spec.constraints.items()}
