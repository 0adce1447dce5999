"""The problems of one TOML schema file, each pointing at the line of the key it is about."""

from __future__ import annotations

import difflib
import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

from envguard.report import Problem

__all__ = ["Problems", "kind", "show", "unknown"]

_SHOWN_LENGTH = 40


@dataclass
class Problems:
    """The problems found so far in ``file``, whose text is ``lines``."""

    file: str
    lines: list[str] = field(default_factory=list)
    items: list[Problem] = field(default_factory=list)

    def add(
        self,
        code: str,
        message: str,
        *,
        var: str | None = None,
        at: str | None = None,
        table: str | None = None,
    ) -> None:
        """Record a problem at key ``at`` of ``[vars.<var>]``, ``[<table>]`` or the top level."""
        line = _locate(self.lines, ("vars", var) if var else (table,) if table else (), at)
        self.items.append(
            Problem(
                key=var,
                source=self.file,
                code=code,
                message=message,
                category="project",
                file=self.file,
                line=line,
            )
        )


def _locate(lines: list[str], table: tuple[str, ...], key: str | None) -> int | None:
    """The 1-based line of ``key`` in ``table`` (best effort: ``[table]`` headers only)."""

    def quoted(name: str) -> str:
        name = re.escape(name)
        return rf"\s*(?:{name}|\"{name}\"|'{name}')\s*"

    key_re = re.compile(rf"{quoted(key)}[=.]") if key else None
    if not table:  # a top-level key, or the header of a top-level table
        top = re.compile(rf"\[*{quoted(key)}[\].=]") if key else None
        return next((n for n, text in enumerate(lines, 1) if top and top.match(text)), None)
    header = re.compile(r"\s*\[" + r"\.".join(quoted(part) for part in table) + r"\]")
    start = None
    for number, text in enumerate(lines, 1):
        if start is None:
            if header.match(text):
                start = number
                if key_re is None:
                    return start
        elif text.lstrip().startswith("["):
            break
        elif key_re is not None and key_re.match(text):
            return number
    return start


def unknown(what: str, got: str, accepted: tuple[str, ...], where: str = "") -> str:
    """``unknown <what> 'got' (did you mean ...?); accepted: ...``."""
    close = difflib.get_close_matches(got, accepted, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"{what} {got!r}{where}{hint}; accepted: {', '.join(accepted)}"


def kind(value: Any) -> str:
    """What a TOML value is, in words (``an integer``, ``a table``)."""
    kinds: tuple[tuple[type, str], ...] = ((bool, "a boolean"), (int, "an integer"))
    kinds += ((float, "a float"), (str, "a string"), (list, "an array"), (dict, "a table"))
    return next((name for tp, name in kinds if isinstance(value, tp)), "a date or time")


def show(value: Any) -> str:
    """A TOML value as a message shows it: JSON, shortened; ``inf`` and ``nan`` as in TOML."""
    text = _json(value)
    return text if len(text) <= _SHOWN_LENGTH else f"{text[: _SHOWN_LENGTH - 3]}..."


def _json(value: Any) -> str:
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)  # "inf", "-inf", "nan", not JSON's "Infinity" and "NaN"
    if isinstance(value, list):
        return f"[{', '.join(_json(item) for item in value)}]"
    if isinstance(value, dict):
        return f"{{{', '.join(f'{_json(str(k))}: {_json(v)}' for k, v in value.items())}}}"
    return json.dumps(value, ensure_ascii=False, default=str)
