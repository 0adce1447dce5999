"""Field types for environment values: durations (``30s``, ``1h30m``) and comma-separated lists.

They work in Python schemas as in compiled TOML schemas::

    class Settings(envguard.Settings):
        timeout: Duration = timedelta(seconds=30)
        allowed_hosts: CommaList[str] = []
        ports: comma_list(int) = []   # the same, built at run time
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, TypeVar, cast

import annotated_types
from pydantic import BeforeValidator
from pydantic_settings import NoDecode

__all__ = [
    "CommaList",
    "Duration",
    "comma_list",
    "format_duration",
    "parse_duration",
    "split_comma",
]

T = TypeVar("T")

#: Longer inputs are rejected unread, and never echoed in the error message.
_MAX_DURATION_LENGTH = 64
_SHOWN_LENGTH = 24

_UNITS = {"ms": "milliseconds", "s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
# "ms" comes first so that "5ms" is not read as five minutes followed by garbage.
_PART = r"(\d+(?:\.\d+)?)(ms|s|m|h|d)"
_DURATION = re.compile(rf"(?:{_PART})+")
_PARTS = re.compile(_PART)
_HINT = "expected a number and a unit (ms, s, m, h, d) such as '30s', '5m', '1h30m', or seconds"


def _shown(text: str) -> str:
    return repr(text) if len(text) <= _SHOWN_LENGTH else f"({len(text)} characters)"


def parse_duration(value: Any) -> Any:
    """Read a duration: ``250ms``, ``30s``, ``5m``, ``1h30m``, ``2d``, or whole seconds.

    Units may be combined in any order (``1h30m``) and numbers may have decimals
    (``1.5h``). Integers and floats are seconds; a ``timedelta`` passes through.

    Raises:
        ValueError: ``invalid duration …`` for anything else. Inputs longer than a few
            characters are described by their length only, never echoed.
    """
    if isinstance(value, dt.timedelta):
        return value
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        # bool is an int, but True must not mean one second.
        raise ValueError(f"invalid duration: {_HINT}")
    if isinstance(value, int | float):
        parts = [(value, "s")]
        text = str(value)
    else:
        text = value.strip()
        if len(text) > _MAX_DURATION_LENGTH:
            raise ValueError(f"invalid duration {_shown(text)}: {_HINT}")
        if text.isascii() and text.isdigit():
            parts = [(int(text), "s")]
        elif _DURATION.fullmatch(text):
            parts = [(float(number), unit) for number, unit in _PARTS.findall(text)]
        else:
            raise ValueError(f"invalid duration {_shown(text)}: {_HINT}")
    total = _total(parts)
    if total is None:
        raise ValueError(f"invalid duration {_shown(text)}: out of range")
    return total


def _total(parts: list[tuple[float, str]]) -> dt.timedelta | None:
    total = dt.timedelta()
    try:
        for number, unit in parts:
            total += dt.timedelta(**{_UNITS[unit]: number})
    except (OverflowError, ValueError):  # too large, or NaN
        return None
    return total


def format_duration(value: dt.timedelta) -> str:
    """The shortest duration string for ``value`` (``timedelta(seconds=5400)`` → ``1h30m``)."""
    total_ms = round(value.total_seconds() * 1000)
    if total_ms == 0:
        return "0s"
    sign = "-" if total_ms < 0 else ""
    total_ms = abs(total_ms)
    out = []
    for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1)):
        count, total_ms = divmod(total_ms, size)
        if count:
            out.append(f"{count}{unit}")
    return sign + "".join(out)


def split_comma(value: Any) -> Any:
    """Split ``"a, b,c"`` into ``["a", "b", "c"]``; anything but a string passes through.

    Items are trimmed and empty items dropped, so ``""`` is an empty list and a trailing
    comma is harmless.
    """
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


#: A duration read from ``30s``, ``5m``, ``1h30m``, ``250ms``, ``2d`` or whole seconds.
Duration = Annotated[dt.timedelta, BeforeValidator(parse_duration)]

#: A comma-separated list (``CommaList[int]`` reads ``"1, 2,3"``). ``NoDecode`` stops
#: pydantic-settings from JSON-decoding the value when the class is instantiated directly.
CommaList = Annotated[list[T], NoDecode, BeforeValidator(split_comma)]


def comma_list(
    item_type: Any, *, min_length: int | None = None, max_length: int | None = None
) -> Any:
    """``CommaList[item_type]`` for an item type known only at run time.

    ``min_length`` and ``max_length`` bound the number of items; they are checked on the
    list itself, so errors read ``List should have at least 1 item``.
    """
    if min_length is None and max_length is None:
        return CommaList[item_type]
    bounds: list[Any] = [] if min_length is None else [annotated_types.MinLen(min_length)]
    bounds += [] if max_length is None else [annotated_types.MaxLen(max_length)]
    # Bounds before the BeforeValidator apply to the list schema, hence "List should …".
    args = (list[item_type], *bounds, NoDecode, BeforeValidator(split_comma))
    return cast(Any, Annotated)[args]
