"""The text form of ``envguard diff``: aligned for an 80-column terminal, colour on a TTY.

Values are shown only for keys that are secret on neither side, with control characters
escaped (a value cannot move the cursor or recolour the terminal) and clipped to fit.
ASCII only, so the output survives any terminal or log encoding and is byte-stable.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any, TextIO

import typer

from envguard.diffing import Drift, KeyDrift, KeySide, Kind

__all__ = ["KEY_COLUMN", "WIDTH", "colour_enabled", "render_text"]

WIDTH = 80
#: Longest key kept in the aligned column; a longer key puts its detail on the next line.
KEY_COLUMN = 28


def colour_enabled(stream: TextIO, environ: Mapping[str, str] | None = None) -> bool:
    """Colour only on a terminal, and never when ``NO_COLOR`` is set or ``TERM=dumb``."""
    environ = os.environ if environ is None else environ
    if "NO_COLOR" in environ or environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty is not None and isatty())


Paint = Callable[[str, str], str]
_STYLES: dict[str, dict[str, Any]] = {
    "bad": {"fg": "red", "bold": True},
    "good": {"fg": "green"},
    "warn": {"fg": "yellow", "bold": True},
    "head": {"bold": True},
}


def _painter(colour: bool) -> Paint:
    if not colour:
        return lambda text, _style: text
    return lambda text, style: typer.style(text, **_STYLES[style])


def _printable(text: str) -> str:
    """Control characters escaped (no terminal escape from a value); blanks made visible."""
    out = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    return f'"{out}"' if not out or out != out.strip() else out


def _clip(text: str, width: int) -> str:
    width = max(width, 4)
    return text if len(text) <= width else text[: width - 3] + "..."


def _widths(left: int, right: int, budget: int) -> tuple[int, int]:
    """Widths for two values sharing ``budget`` characters, the shorter kept whole."""
    if left + right <= budget:
        return left, right
    half = budget // 2
    if left <= half:
        return left, budget - left
    if right <= half:
        return budget - right, right
    return half, budget - half


def _window(text: str, width: int, at: int) -> str:
    """Clip ``text`` to ``width``, keeping index ``at`` (where two values part) in view."""
    width = max(width, 10)
    if len(text) <= width or at < width - 6:
        return _clip(text, width)
    start = at - 3  # a little context before the difference
    if len(text) - start <= width - 3:
        return "..." + text[len(text) - (width - 3) :]
    return "..." + text[start : start + width - 6] + "..."


def _changed(old: str, new: str, room: int) -> str:
    at = next(
        (i for i, (x, y) in enumerate(zip(old, new, strict=False)) if x != y),
        min(len(old), len(new)),
    )
    wide_old, wide_new = _widths(len(old), len(new), room - 4)
    return f"{_window(old, wide_old, at)} -> {_window(new, wide_new, at)}"


def _value(side: KeySide) -> str:
    return "(secret)" if side.shown is None else _printable(side.shown)


def _state(side: KeySide) -> str:
    if not side.valid:
        return "/".join(dict.fromkeys(side.codes))
    return "ok" if side.present else "ok (unset)"


def _detail(item: KeyDrift, drift: Drift, room: int) -> list[str]:
    """The text after the key: one line, or one per side for a long broken key."""
    if item.kind in ("only_a", "only_b"):
        return [_clip(_value(item.a if item.kind == "only_a" else item.b), room)]
    if item.kind == "changed":
        if item.secret:
            return ["changed (secret)"]
        return [_changed(_value(item.a), _value(item.b), room)]
    # broken: each side's state (ok, or its error codes), with its value when shown
    parts = []
    for side, key in ((drift.a, item.a), (drift.b, item.b)):
        head = f"{side.env}: {_state(key)}"
        parts.append(head if key.shown is None else f"{head} ({_printable(key.shown)})")
    joined = "; ".join(parts)
    return [joined] if len(joined) <= room else [_clip(part, room) for part in parts]


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _side_lines(drift: Drift, paint: Paint) -> list[str]:
    width = min(max(len(drift.a.env), len(drift.b.env)), 24)
    lines = []
    for side in (drift.a, drift.b):
        label = f"{_clip(side.env, width).ljust(width)}  "
        errors = sum(1 for p in side.problems if p.severity == "error")
        warnings = len(side.problems) - errors
        status, style = ("valid", "good")
        rest = ""
        if errors:
            status, style = (f"invalid: {_plural(errors, 'error')}", "bad")
            rest = f" ({', '.join(side.codes)})"
        if warnings:
            rest += f", {_plural(warnings, 'warning')}"
        rest = _clip(rest, WIDTH - len(label) - len(status)) if rest else ""
        lines.append(label + paint(status, style) + rest)
    return lines


def _key_lines(item: KeyDrift, drift: Drift, column: int) -> list[str]:
    indent = " " * (column + 4)
    key = _printable(item.key)
    first, *more = _detail(item, drift, WIDTH - column - 4)
    head = (
        [f"  {key}", indent + first] if len(key) > column else [f"  {key.ljust(column)}  {first}"]
    )
    return head + [indent + line for line in more]


def render_text(drift: Drift, *, colour: bool = False) -> str:
    """The aligned report: no line over 80 columns for keys up to :data:`KEY_COLUMN` long."""
    paint = _painter(colour)
    lines = _side_lines(drift, paint)
    a, b = _clip(drift.a.env, 24), _clip(drift.b.env, 24)
    headings: dict[Kind, tuple[str, str]] = {
        "broken": ("Breaks a deploy ({n}): valid in one environment, invalid in the other", "bad"),
        "only_a": (f"Only in {a} ({{n}})", "warn"),
        "only_b": (f"Only in {b} ({{n}})", "warn"),
        "changed": ("Changed ({n})", "head"),
    }
    fitting = [len(_printable(k.key)) for k in drift.keys if k.kind != "unchanged"]
    column = max([n for n in fitting if n <= KEY_COLUMN], default=KEY_COLUMN)
    for kind, (heading, style) in headings.items():
        items = drift.of(kind)
        if items:
            lines += ["", paint(heading.format(n=len(items)), style)]
            for item in items:
                lines += _key_lines(item, drift, column)
    unchanged = _plural(len(drift.of("unchanged")), "key")
    lines += [
        "",
        f"Unchanged: {unchanged}" if drift.differs else f"No drift: {unchanged} unchanged",
    ]
    return "\n".join(lines) + "\n"
