"""Checking the constraints of one TOML schema variable (``min``, ``pattern``, ``values`` ...)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Annotated, Any

from pydantic import StringConstraints, TypeAdapter
from pydantic_core import SchemaError

from envguard.schema._toml_problems import show, unknown
from envguard.schema.types import parse_duration

__all__ = ["CONSTRAINTS", "ITEM_TYPES", "TYPES", "check_constraints"]

TYPES = ("bool", "duration", "email", "enum", "float", "int", "json", "list", "path", "str", "url")
ITEM_TYPES = tuple(t for t in TYPES if t not in ("json", "list"))
#: The types each constraint applies to; ``values`` and ``schemes`` also apply to a list
#: whose ``item`` is ``enum`` or ``url``.
CONSTRAINTS: dict[str, tuple[str, ...]] = {
    "min": ("duration", "float", "int"),
    "max": ("duration", "float", "int"),
    "min_length": ("list", "str"),
    "max_length": ("list", "str"),
    "pattern": ("str",),
    "values": ("enum",),
    "schemes": ("url",),
    "item": ("list",),
}


def check_constraints(
    type_name: str, table: dict[str, Any], bad: Callable[..., None]
) -> dict[str, Any]:
    """Each constraint of ``[vars.NAME]`` checked and normalized (durations parsed), by key.

    ``bad(code, message, at=key)`` records a problem.
    """
    applies = {type_name}
    if type_name == "list":
        item = table.get("item", "str")
        if not isinstance(item, str) or item not in ITEM_TYPES:
            bad(
                "schema_unknown_type",
                unknown("unknown item type", str(item), ITEM_TYPES),
                at="item",
            )
            return {}
        if item in ("enum", "url"):  # their values or schemes apply to each item
            applies.add(item)
    cons: dict[str, Any] = {}
    for key, types in CONSTRAINTS.items():
        if key not in table:
            continue
        if not applies.intersection(types):
            message = (
                f"'{key}' does not apply to type '{type_name}' (it applies to: {', '.join(types)})"
            )
            bad("schema_bad_constraint", message, at=key)
            continue
        value, reason = _constraint(key, table[key], type_name)
        if reason is not None:
            bad("schema_bad_constraint", f"'{key}' {reason}", at=key)
        else:
            cons[key] = value
    for low, high in (("min", "max"), ("min_length", "max_length")):
        if low in cons and high in cons and cons[low] > cons[high]:
            message = f"'{low}' ({show(table[low])}) is greater than '{high}' ({show(table[high])})"
            bad("schema_bad_constraint", message, at=low)
    if "enum" in applies and "values" not in table:
        bad("schema_bad_constraint", "type 'enum' needs 'values', an array of strings", at="type")
    return cons


def _constraint(key: str, value: Any, type_name: str) -> tuple[Any, str | None]:
    """``(normalized value, None)``, or ``(None, why it is invalid)``."""
    got = f", got {show(value)}"
    if key in ("min", "max"):
        return _bound(value, type_name, got)
    if key in ("min_length", "max_length"):
        ok = isinstance(value, int) and not isinstance(value, bool) and value >= 0
        return (value, None) if ok else (None, f"must be a whole number, 0 or more{got}")
    if key == "pattern":
        reason = _pattern_error(value) if isinstance(value, str) else f"must be a string{got}"
        return (value, None) if reason is None else (None, reason)
    if key in ("values", "schemes"):
        if not isinstance(value, list) or not value:
            return None, f"must be a non-empty array of strings{got}"
        if not all(isinstance(v, str) and v for v in value):
            return None, f"must hold non-empty strings only{got}"
        if len(set(value)) != len(value):
            return None, f"must not repeat a value{got}"
    return value, None  # item is checked by the caller


def _bound(value: Any, type_name: str, got: str) -> tuple[Any, str | None]:
    """A ``min`` or ``max`` that pydantic can build a validator from, or why not."""
    # TOML has inf and nan: a bound of either would crash pydantic or reject every value.
    if isinstance(value, float) and not math.isfinite(value):
        return None, f"must be a finite number{got}"
    if type_name == "duration":
        try:
            return parse_duration(value), None
        except ValueError:
            return None, f"must be a duration such as '30s', or a number of seconds{got}"
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None, f"must be a number{got}"
    if type_name == "int" and isinstance(value, float):
        # pydantic cannot build an int validator with a fractional bound.
        if not value.is_integer():
            return None, f"must be a whole number for type 'int'{got}"
        return int(value), None
    if type_name == "float" and isinstance(value, int):
        try:
            float(value)
        except OverflowError:  # TOML integers have no bound
            return None, f"is out of range for type 'float'{got}"
    return value, None


def _pattern_error(pattern: str) -> str | None:
    """Why pydantic's regex engine rejects ``pattern``, or None."""
    try:
        TypeAdapter(Annotated[str, StringConstraints(pattern=pattern)])
    except SchemaError as exc:
        lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
        why = next((ln[len("error:") :] for ln in lines if ln.startswith("error:")), lines[-1])
        return f"is not a valid regular expression: {why.strip()}"
    return None
