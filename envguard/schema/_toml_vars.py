"""Compiling one ``[vars.NAME]`` table of a TOML schema into a field, or problems."""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Callable
from typing import Any

from pydantic import Field, TypeAdapter, ValidationError

from envguard._secrecy import looks_secret
from envguard.schema._toml_constraints import CONSTRAINTS, TYPES, check_constraints
from envguard.schema._toml_problems import Problems, kind, show, unknown
from envguard.schema._toml_types import annotation, secret

__all__ = ["VAR_KEYS", "VAR_NAME", "compile_var"]

METADATA_KEYS = ("default", "deprecated", "description", "example", "required_in", "secret", "type")
VAR_KEYS = tuple(sorted((*METADATA_KEYS, *CONSTRAINTS)))
VAR_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def compile_var(name: str, table: Any, env: str | None, out: Problems) -> tuple[Any, Any] | None:
    """The ``(annotation, FieldInfo)`` of one ``[vars.NAME]`` table, or None after a problem."""
    if not VAR_NAME.fullmatch(name):
        message = f"invalid variable name {name!r}: use letters, digits and underscores only"
        out.add("schema_bad_name", message + ", not starting with a digit", var=name)
        return None
    if not isinstance(table, dict):
        out.add("schema_bad_value", f"must be a table [vars.{name}], not {kind(table)}", var=name)
        return None
    before = len(out.items)
    bad = functools.partial(out.add, var=name)
    for key in table:
        if key not in VAR_KEYS:
            bad("schema_unknown_key", unknown("unknown key", key, VAR_KEYS), at=key)
    _check_metadata(table, bad)
    typing_ok = len(out.items)
    type_name = _check_type(table, bad)
    cons = check_constraints(type_name, table, bad) if type_name else {}
    if type_name is None or len(out.items) > typing_ok:
        return None  # the default cannot be checked against a type that is wrong
    is_secret = table.get("secret") is True
    # A misspelt `secret = "true"`, or an undeclared secret-looking name, still hides values.
    hide = is_secret or table.get("secret", looks_secret(name)) is not False
    base = annotation(type_name, cons)
    for key in ("default", "example"):
        if key in table:
            reason = _check_value(base, _env_form(type_name, table[key]), type_name, hide)
            if reason is not None:
                shown = "(hidden: the variable is secret)" if hide else show(table[key])
                bad(f"schema_bad_{key}", f"invalid {key} {shown}: {reason}", at=key)
    if len(out.items) > before:
        return None

    required_in = table.get("required_in")
    if required_in is not None:
        required = env is not None and env in required_in
    else:
        required = "default" not in table
    field_type = secret(type_name, base) if is_secret else base
    if not required and table.get("default") is None:
        field_type = field_type | None
    extra: dict[str, Any] = {"type": type_name}
    extra.update({k: table[k] for k in ("secret", "required_in") if k in table})
    constraints = {k: table[k] for k in CONSTRAINTS if k in table}
    if constraints:
        extra["constraints"] = constraints
    info = Field(
        ... if required else _env_form(type_name, table.get("default")),
        validation_alias=name,
        description=table.get("description"),
        examples=[_env_form(type_name, table["example"])] if "example" in table else None,
        deprecated=table.get("deprecated") or None,
        json_schema_extra=extra,
    )
    return field_type, info


def _check_metadata(table: dict[str, Any], bad: Callable[..., None]) -> None:
    checks: tuple[tuple[str, Callable[[Any], bool], str], ...] = (
        ("description", lambda v: isinstance(v, str), "a string"),
        ("secret", lambda v: isinstance(v, bool), "true or false"),
        ("deprecated", lambda v: isinstance(v, bool | str), "true, false or a message"),
        (
            "required_in",
            lambda v: isinstance(v, list) and all(isinstance(e, str) and e for e in v),
            "an array of environment names",
        ),
    )
    for key, ok, want in checks:
        if key in table and not ok(table[key]):
            bad("schema_bad_value", f"'{key}' must be {want}, got {show(table[key])}", at=key)


def _check_type(table: dict[str, Any], bad: Callable[..., None]) -> str | None:
    type_name = table.get("type", "str")
    if not isinstance(type_name, str):
        bad("schema_bad_value", f"'type' must be a string, got {show(type_name)}", at="type")
        return None
    if type_name not in TYPES:
        bad("schema_unknown_type", unknown("unknown type", type_name, TYPES), at="type")
        return None
    return type_name


def _env_form(type_name: str, value: Any) -> Any:
    """A TOML value as the environment would hold it: json tables become JSON text."""
    if type_name == "json" and value is not None and not isinstance(value, str):
        return json.dumps(value, ensure_ascii=False, default=str)
    return value


def _check_value(annotation: Any, value: Any, type_name: str, secret: bool) -> str | None:
    """Why ``value`` fails the variable's type or constraints, or None."""
    if isinstance(value, bool) and type_name in ("float", "int"):
        return "Input should be a number, not a boolean"
    try:
        result = TypeAdapter(annotation).validate_python(value)
    except ValidationError as exc:
        errors = exc.errors(include_input=False, include_url=False)
    else:
        # A float variable accepts inf and nan (`nan`, "inf"), but a default must be a number.
        where = _non_finite(result)
        return None if where is None else f"{where}Input should be a finite number"
    reasons = []
    for error in errors:
        message = error["msg"]
        if secret and error["type"] in ("value_error", "assertion_error"):
            message = f"Input is not a valid {type_name}"  # its own message may echo it
        index = next((p for p in error["loc"] if isinstance(p, int)), None)
        reasons.append(message if index is None else f"item {index + 1}: {message}")
    return "; ".join(reasons)


def _non_finite(value: Any) -> str | None:
    """``""`` (or ``"item N: "`` in a list) when ``value`` holds inf or nan, else None."""
    if isinstance(value, float):
        return None if math.isfinite(value) else ""
    if isinstance(value, list):
        for index, item in enumerate(value, 1):
            if _non_finite(item) is not None:
                return f"item {index}: "
    if isinstance(value, dict) and any(_non_finite(v) is not None for v in value.values()):
        return ""
    return None
