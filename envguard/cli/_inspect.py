"""What ``show`` and ``explain`` read from an outcome, and how they mask it.

Which variable sets which field and what is secret are the outcome's answers (validation
marked every secret value, overridden copies included); this module only lays them out
and masks: a secret value is printed as ``********``, and any other value is scrubbed of
the environment's secrets before it is shown.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
from typing import Annotated, Any, NamedTuple

import typer
from pydantic_core import to_jsonable_python

from envguard.cli._options import Format
from envguard.engine import Outcome
from envguard.report import MASK, Problem
from envguard.schema.fields import VarSpec
from envguard.schema.types import format_duration
from envguard.schema.view import Binding, Row
from envguard.sources.base import Value

__all__ = [
    "NOT_SET",
    "Inspection",
    "Line",
    "OutputFormat",
    "OutputFormatOpt",
    "printable",
    "scalar",
]

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


class Line(NamedTuple):
    """One variable as ``show`` lists it and ``explain`` describes it.

    Attributes:
        name: the variable as set (the spelling a source used), or the schema's name for a
            field no source sets, or an undeclared key.
        row: the field it sets, or None for an undeclared key.
        bindings: the variables whose values the field was validated with.
    """

    name: str
    row: Row | None
    bindings: tuple[Binding, ...]


class Inspection:
    """One outcome, asked the way validation read it: every answer comes from the outcome
    (:class:`~envguard.engine.Outcome`) and the schema's view, so ``show``, ``explain`` and
    ``check`` cannot disagree about which variable sets which field, or what is secret."""

    def __init__(self, outcome: Outcome) -> None:
        self.outcome = outcome
        self.view = outcome.view
        self.redactor = outcome.redactor
        self._problems = outcome.row_problems()

    def lines(self) -> list[Line]:
        """Every field in schema order (one line per variable that set it), then the
        undeclared keys worth showing, sorted."""
        out = []
        for row in self.view.rows:
            bindings = self.outcome.bindings(row)
            if not bindings:
                out.append(Line(row.spec.name, row, ()))
            elif len(bindings) == 1 or all(not b.path for b in bindings):
                out.append(Line(bindings[0].name, row, tuple(bindings)))
            else:
                out.extend(Line(b.name, row, (b,)) for b in bindings)
        values = self.outcome.resolution.values
        for name in sorted(self.outcome.undeclared()):
            out.append(Line(name, None, (Binding(name, values[name]),)))
        return out

    def line(self, name: str) -> Line | None:
        """The variable ``name`` (any spelling of a field, a nested key, or an undeclared
        key), or None when the schema does not declare it and no source sets it."""
        row = self.view.field_of(name)
        if row is not None:
            return Line(row.spec.name, row, tuple(self.outcome.bindings(row)))
        norm = self.view.norm(name)
        for key, value in reversed(self.outcome.resolution.values.items()):
            if self.view.norm(key) == norm:
                return Line(key, None, (Binding(key, value),))
        return None

    def is_secret(self, line: Line) -> bool:
        return self.outcome.secret(line.row, line.name)

    def shown(self, line: Line, value: Value) -> str:
        """A value as it may be printed: masked when secret, else scrubbed."""
        if value.sensitive or self.is_secret(line):
            return MASK
        return self.redactor.scrub(value.text)

    def value(self, line: Line) -> str | None:
        """The line's value as printed: one variable's value, or ``NAME=value`` pairs."""
        if not line.bindings:
            return None
        if len(line.bindings) == 1:
            return self.shown(line, line.bindings[0].value)
        return ", ".join(f"{b.name}={self.shown(line, b.value)}" for b in line.bindings)

    def origin(self, line: Line) -> str | None:
        origins = list(dict.fromkeys(str(b.value.origin) for b in line.bindings))
        return "; ".join(origins) if origins else None

    def overridden(self, line: Line) -> list[Value]:
        """The values sources offered for the variable that lost to a later source."""
        winners = {id(b.value) for b in line.bindings}
        return [v for v in self.outcome.offered(line.row, line.name) if id(v) not in winners]

    def problems(self, line: Line) -> list[Problem]:
        key = line.row.field if line.row is not None else self.view.norm(line.name)
        return [self.redactor.scrub_problem(p) for p in self._problems.get(key, [])]

    def status(self, line: Line) -> str:
        """``valid``, ``invalid``, ``missing`` (required, not set), ``default`` or
        ``undeclared``."""
        return self.outcome.status(line.row, line.name, self._problems)

    def default(self, line: Line) -> Any:
        """The field's default, JSON-ready and masked when secret; None when required."""
        if line.row is None or line.row.spec.required:
            return None
        default = line.row.spec.default_value
        if default is not None and self.is_secret(line):
            return MASK
        return _jsonable(default)

    def constraints(self, spec: VarSpec) -> dict[str, Any]:
        return {k: _jsonable(v) for k, v in spec.constraints.items()}
