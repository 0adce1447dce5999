"""The schema's variables as a JSON Schema (draft 2020-12) of the environment.

Environment values are strings, so every property is ``"type": "string"`` and the accepted
format is described with ``pattern``, ``enum`` and ``format``; ``x-envguard-type`` names the
envguard type and ``x-envguard-constraints`` keeps the bounds a string schema cannot state.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic_settings import BaseSettings

from envguard.docs._common import (
    GENERATED,
    default_text,
    env_text,
    example_text,
    item_type,
    model_doc,
    model_name,
)
from envguard.schema.fields import VarSpec, variables

__all__ = ["DRAFT", "render_json_schema"]

DRAFT = "https://json-schema.org/draft/2020-12/schema"


def _any_case(*words: str) -> str:
    """An ECMA-262 pattern matching ``words`` in any letter case (no inline flags there)."""
    alternatives = (
        "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else re.escape(c) for c in word)
        for word in words
    )
    return f"^({'|'.join(alternatives)})$"


_INT = r"[+-]?[0-9](_?[0-9])*"
_FLOAT = (
    r"[+-]?(([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?"
    r"|[iI][nN][fF]([iI][nN][iI][tT][yY])?|[nN][aA][nN])"
)
_PATTERNS = {
    "int": f"^{_INT}$",
    "float": f"^{_FLOAT}$",
    "bool": _any_case("0", "1", "f", "false", "n", "no", "off", "on", "t", "true", "y", "yes"),
    "duration": r"^([0-9]+|([0-9]+(\.[0-9]+)?(ms|s|m|h|d))+)$",
}
_FORMATS = {"url": "uri", "email": "email"}
# Bounds a string schema cannot state: kept as data for other tools.
_NUMERIC = ("min", "gt", "max", "lt")


def _property(model: type[BaseSettings], spec: VarSpec) -> dict[str, Any]:
    cons = spec.constraints
    prop: dict[str, Any] = {"type": "string"}
    if spec.description:
        prop["description"] = spec.description
    if "values" in cons and spec.type == "enum":
        prop["enum"] = [env_text(v) for v in cons["values"]]
    if spec.type in _FORMATS:
        prop["format"] = _FORMATS[spec.type]
    pattern = _PATTERNS.get(spec.type)
    if spec.type == "url" and cons.get("schemes"):
        schemes = "|".join(re.escape(str(s)) for s in cons["schemes"])
        pattern = f"^({schemes}):"
    if spec.type == "str" and "pattern" in cons:
        pattern = str(cons["pattern"])
    if pattern:
        prop["pattern"] = pattern
    if spec.type == "str":
        for key, keyword in (("min_length", "minLength"), ("max_length", "maxLength")):
            if key in cons:
                prop[keyword] = cons[key]
    if spec.decode_json or spec.type == "json":
        prop["contentMediaType"] = "application/json"
    default = default_text(spec)
    if default is not None and spec.default_value is not None:
        prop["default"] = default
    example = example_text(spec)
    if example is not None:
        prop["examples"] = [example]
    if spec.is_secret:
        prop["writeOnly"] = True
    if spec.deprecated:
        prop["deprecated"] = True
    prop["x-envguard-type"] = spec.type
    item = item_type(model, spec)
    if item:
        prop["x-envguard-item-type"] = item
    extra = {
        k: v
        for k, v in sorted(cons.items())
        if k in _NUMERIC
        or (spec.type != "str" and k in ("min_length", "max_length"))
        or (spec.type == "list" and k in ("values", "schemes", "pattern"))
    }
    if extra:
        prop["x-envguard-constraints"] = {k: _jsonable(v) for k, v in extra.items()}
    if spec.deprecated and spec.deprecated != "deprecated":
        prop["x-envguard-deprecated"] = spec.deprecated
    if spec.required_in:
        prop["x-envguard-required-in"] = list(spec.required_in)
    return prop


def _jsonable(value: Any) -> Any:
    if isinstance(value, bool | int | float | str) or value is None:
        return value
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return env_text(value)


def render_json_schema(model: type[BaseSettings]) -> str:
    """Describe the environment ``model`` reads as a JSON Schema (draft 2020-12).

    Properties are keyed by variable name in the schema's field order; secrets are
    ``writeOnly`` and never carry their default.
    """
    specs = variables(model)
    schema: dict[str, Any] = {"$schema": DRAFT, "title": model_name(model)}
    doc = model_doc(model)
    if doc:
        schema["description"] = doc
    schema["$comment"] = GENERATED
    schema["type"] = "object"
    schema["properties"] = {spec.name: _property(model, spec) for spec in specs}
    schema["required"] = [spec.name for spec in specs if spec.required]
    return json.dumps(schema, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
