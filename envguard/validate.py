"""Validate a resolution against a schema: one pass, every problem, nothing secret.

This is the fast path: the resolved mapping is validated directly by pydantic-core
(``model_validate``), without pydantic-settings' per-instantiation source machinery.
Problems are built from ``ValidationError.errors(include_input=False)`` inside the
``except`` block and returned after it, so no exception chain carries a raw value.
"""

from __future__ import annotations

import difflib
import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Generic, NamedTuple, TypeVar

from pydantic import ValidationError
from pydantic_settings import BaseSettings

from envguard._fastpath import validate_mapping
from envguard.report import Problem, Redactor
from envguard.resolve import Resolution
from envguard.schema.fields import VarSpec, looks_secret, url_has_credentials, variables
from envguard.sources.base import Value

__all__ = ["Validated", "is_secret", "validate"]

M = TypeVar("M", bound=BaseSettings)


@dataclass(slots=True)
class Validated(Generic[M]):
    """The outcome of validation: the settings object (when valid) and every problem."""

    settings: M | None
    problems: list[Problem]
    redactor: Redactor


def is_secret(spec: VarSpec | None, name: str, value: Value | None) -> bool:
    """Secret by the schema's declaration; else by source, name, or URL credentials."""
    if spec is not None and spec.secret is not None:
        return spec.secret
    if value is not None and (value.sensitive or url_has_credentials(value.text)):
        return True
    return looks_secret(name)


class _Row(NamedTuple):
    spec: VarSpec
    names: tuple[str, ...]  # lookup keys: the name, then aliases (upper-cased unless exact)
    declared: bool | None  # the schema's secret declaration
    name_secret: bool  # the name looks secret


class _Plan(NamedTuple):
    """What validating against one model needs, computed once per model."""

    case_sensitive: bool
    rows: tuple[_Row, ...]
    known: frozenset[str]
    sorted_known: list[str]
    prefix: str
    delimiter: str | None
    spec_by_key: dict[str, VarSpec]


@functools.cache
def _plan(model: type[BaseSettings]) -> _Plan:
    config = model.model_config
    exact = bool(config.get("case_sensitive"))
    rows = tuple(
        _Row(
            spec,
            tuple(n if exact else n.upper() for n in (spec.name, *spec.aliases)),
            spec.secret,
            looks_secret(spec.name),
        )
        for spec in variables(model)
    )
    known = frozenset(n for row in rows for n in row.names)
    delimiter = config.get("env_nested_delimiter") or None
    prefix = str(config.get("env_prefix") or "")
    by_key = {row.spec.key: row.spec for row in rows}
    return _Plan(exact, rows, known, sorted(known), prefix, delimiter, by_key)


def _lookup(plan: _Plan, values: Mapping[str, Value]) -> Mapping[str, Value]:
    if plan.case_sensitive:
        return values
    return {k.upper(): v for k, v in values.items()}


def _origin_fields(value: Value | None) -> dict[str, Any]:
    if value is None:
        return {"source": None}
    o = value.origin
    return {"source": str(o), "file": o.file, "line": o.line}


#: Codes whose message a user's validator wrote: it may contain the value.
_CUSTOM_CODES = frozenset({"value_error", "assertion_error"})

_LENGTH_MESSAGES = {
    "too_short": "must have at least {min_length} {unit}",
    "string_too_short": "must have at least {min_length} {unit}",
    "too_long": "must have at most {max_length} {unit}",
    "string_too_long": "must have at most {max_length} {unit}",
}


def _message(error: Mapping[str, Any], spec: VarSpec | None) -> tuple[str, str]:
    """A stable code and a plain-words message; lengths of secrets are not disclosed."""
    code = str(error["type"])
    if code == "missing":
        return code, "required, but not set by any source"
    template = _LENGTH_MESSAGES.get(code)
    ctx = error.get("ctx") or {}
    if template is not None and ("min_length" in ctx or "max_length" in ctx):
        unit = "items" if spec is not None and spec.type == "list" else "characters"
        return code, template.format(unit=unit, **ctx)
    return code, str(error["msg"])


def _accepts_unknown(name: str, value: Value, prefix: str) -> bool:
    """Whether a key the schema does not declare is worth a warning.

    The process environment always holds unrelated variables (PATH, HOME): only keys
    carrying the schema's ``env_prefix`` are checked there. Every key of a file or a
    secret store is checked, since someone put it there for this app.
    """
    if value.origin.source == "env":
        return bool(prefix) and name.upper().startswith(prefix.upper())
    return True


def _from_env(layer: Mapping[str, Value]) -> bool:
    first = next(iter(layer.values()), None)
    return first is not None and first.origin.source == "env"


def _nested(
    lookup: Mapping[str, Value], delimiter: str | None, case_sensitive: bool
) -> dict[str, list[tuple[list[str], Value]]]:
    """Keys like ``APP_DB__HOST`` grouped by their base (``APP_DB``), for nested models.

    As pydantic-settings does with ``env_nested_delimiter``: the parts after the base name
    become nested keys (lower-cased unless the schema is case sensitive).
    """
    if not delimiter:
        return {}
    groups: dict[str, list[tuple[list[str], Value]]] = {}
    for name, value in lookup.items():
        base, sep, rest = name.partition(delimiter)
        if sep and base and rest:
            parts = rest.split(delimiter) if case_sensitive else rest.lower().split(delimiter)
            groups.setdefault(base, []).append((parts, value))
    return groups


def _set_path(target: dict[str, Any], parts: list[str], text: str) -> None:
    for part in parts[:-1]:
        child = target.get(part)
        if not isinstance(child, dict):
            child = target[part] = {}
        target = child
    target[parts[-1]] = text


def _prepare(
    plan: _Plan,
    lookup: Mapping[str, Value],
    nested: Mapping[str, list[tuple[list[str], Value]]],
    redactor: Redactor,
    problems: list[Problem],
) -> tuple[dict[str, Any], dict[str, tuple[VarSpec, Value | None]]]:
    """The mapping to validate (raw strings, JSON-decoded where the field is complex)."""
    data: dict[str, Any] = {}
    by_key: dict[str, tuple[VarSpec, Value | None]] = {}
    get = lookup.get
    for spec, names, declared, name_secret in plan.rows:
        value = get(names[0])
        if value is None and len(names) > 1:
            value = next((v for v in map(get, names[1:]) if v is not None), None)
        parts = nested.get(names[0]) if nested else None
        if value is None and not parts:
            continue
        origin_value = value if value is not None or not parts else parts[0][1]
        by_key[spec.key] = (spec, origin_value)
        if declared is not None:
            secret = declared
        else:
            secret = name_secret or (
                value is not None and (value.sensitive or url_has_credentials(value.text))
            )
        if value is not None and secret:
            redactor.add(value.text)
        if spec.deprecated:
            problems.append(
                Problem(
                    spec.name,
                    code="deprecated",
                    message=f"is deprecated: {spec.deprecated}",
                    severity="warning",
                    **_origin_fields(origin_value),
                )
            )
        if not spec.decode_json:
            if value is not None:
                data[spec.key] = value.text
            continue
        decoded: Any = {}
        if value is not None:
            try:
                decoded = json.loads(value.text)
            except json.JSONDecodeError as exc:
                # The message of a JSONDecodeError holds no input; its .doc does.
                problems.append(
                    Problem(
                        spec.name,
                        code="json_invalid",
                        message=f"is not valid JSON (line {exc.lineno} column {exc.colno})",
                        **_origin_fields(value),
                    )
                )
                continue
        if parts and isinstance(decoded, dict):
            for path, part in parts:
                _set_path(decoded, path, part.text)
                if secret or part.sensitive:
                    redactor.add(part.text)
        data[spec.key] = decoded
        if secret:
            # Error locations name dict keys (``CREDS.<key>``): scrub every string inside.
            _add_strings(redactor, decoded)
    return data, by_key


def _add_strings(redactor: Redactor, decoded: Any) -> None:
    """Teach ``redactor`` every string key and value of a decoded JSON document."""
    todo = [decoded]
    while todo:
        item = todo.pop()
        if isinstance(item, str):
            redactor.add(item)
        elif isinstance(item, dict):
            todo.extend(item)
            todo.extend(item.values())
        elif isinstance(item, list):
            todo.extend(item)


def _unknown(
    plan: _Plan,
    resolution: Resolution,
    lookup: Mapping[str, Value],
    redactor: Redactor,
    strict: bool,
) -> list[Problem]:
    """Keys set by a source but not declared by the schema (secret ones are scrubbed)."""
    undeclared = lookup.keys() - plan.known
    delimiter = plan.delimiter
    if delimiter:
        undeclared = {k for k in undeclared if k.partition(delimiter)[0] not in plan.known}
    reported = set()
    files: list[dict[str, Value]] | None = None
    for key in undeclared:
        value = lookup[key]
        if is_secret(None, key, value):
            redactor.add(value.text)
        if _accepts_unknown(key, value, plan.prefix):
            reported.add(key)
            continue
        # Set in a file but overridden by the shell: still worth the warning, so the
        # report does not depend on the machine's environment.
        if files is None:
            files = [layer for layer in resolution.layers if not _from_env(layer)]
        if any(key in layer for layer in files):
            reported.add(key)
    if not reported:
        return []
    problems = []
    for name, value in resolution.values.items():  # in resolution order, as users set them
        key = name if plan.case_sensitive else name.upper()
        if key not in reported or lookup[key] is not value:
            continue
        close = difflib.get_close_matches(key, plan.sorted_known, n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        problems.append(
            Problem(
                name,
                code="unknown_key",
                message=f"is not declared in the schema{hint}",
                severity="error" if strict else "warning",
                **_origin_fields(value),
            )
        )
    return problems


def validate(
    model: type[M], resolution: Resolution, *, env: str, strict: bool = False
) -> Validated[M]:
    """Validate ``resolution`` against ``model``; collect every problem at once.

    Args:
        model: the settings class.
        resolution: the merged values with their origins.
        env: the environment's name (for messages).
        strict: report undeclared keys as errors rather than warnings.
    """
    plan = _plan(model)
    lookup = _lookup(plan, resolution.values)
    redactor = Redactor()
    problems: list[Problem] = []
    nested = _nested(lookup, plan.delimiter, plan.case_sensitive)
    data, by_key = _prepare(plan, lookup, nested, redactor, problems)
    problems += _unknown(plan, resolution, lookup, redactor, strict)

    # A key that failed JSON decoding was left out of ``data``: drop pydantic's "missing".
    failed_json = {p.key for p in problems if p.code == "json_invalid"}
    settings: M | None = None
    try:
        settings = validate_mapping(model, data)
    except ValidationError as exc:
        for error in exc.errors(include_input=False, include_url=False):
            loc = error.get("loc") or ()
            spec, value = by_key.get(str(loc[0]), (None, None)) if loc else (None, None)
            if spec is None and loc:
                spec = plan.spec_by_key.get(str(loc[0]))
            key = spec.name if spec else (".".join(map(str, loc)) or None)
            if key in failed_json:
                continue
            code, message = _message(error, spec)
            if code in _CUSTOM_CODES and spec is not None and is_secret(spec, spec.name, value):
                # A validator's own message may echo the value in any form (upper-cased,
                # sliced): for a secret, say only that it failed.
                message = "failed the schema's validator (message hidden: the value is secret)"
            if len(loc) > 1:
                message = f"{'.'.join(map(str, loc[1:]))}: {message}"
            problems.append(Problem(key, code=code, message=message, **_origin_fields(value)))
    if any(p.severity == "error" for p in problems):
        settings = None
    problems.sort(key=lambda p: p.severity != "error")  # stable: errors, then warnings
    return Validated(settings, [redactor.scrub_problem(p) for p in problems], redactor)
