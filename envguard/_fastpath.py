"""Validating a resolved mapping against a settings class without pydantic-settings' sources.

``BaseSettings`` defines ``__init__``, so pydantic-core's model validator calls it on
``model_validate`` — and ``__init__`` re-reads every pydantic-settings source and
re-inspects each field's type (≈ 23 µs per field per load). envguard has already resolved
the values, so it validates with a copy of the class's own core schema that skips the
custom ``__init__``: the same fields, validators and config, at pydantic-core speed.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Mapping
from typing import Any, TypeVar, cast

from pydantic_core import SchemaValidator
from pydantic_settings import BaseSettings

__all__ = ["validate_mapping"]

M = TypeVar("M", bound=BaseSettings)


def _without_custom_init(schema: Mapping[str, Any]) -> dict[str, Any] | None:
    kind = schema.get("type")
    if kind == "model":
        return {**schema, "custom_init": False}
    if kind == "definitions" or (isinstance(kind, str) and kind.startswith("function-")):
        inner = schema.get("schema")
        if isinstance(inner, Mapping):
            replaced = _without_custom_init(inner)
            return None if replaced is None else {**schema, "schema": replaced}
    return None


_BUILD_LOCK = threading.Lock()


@functools.cache
def _validator(model: type[BaseSettings]) -> SchemaValidator | None:
    schema = getattr(model, "__pydantic_core_schema__", None)
    if not isinstance(schema, Mapping) or not model.__dict__.get("__pydantic_complete__"):
        return None  # an incomplete (mock) schema: let pydantic handle it
    replaced = _without_custom_init(schema)
    if replaced is None:
        return None
    # pydantic-core reuses a complete class's own validator (which calls __init__) when a
    # schema names that class; it decides while building, from the class's __dict__. Hide
    # the flag for the few microseconds of the build so a fresh validator is compiled.
    with _BUILD_LOCK:
        model.__pydantic_complete__ = False
        try:
            return SchemaValidator(cast(Any, replaced))
        finally:
            model.__pydantic_complete__ = True


def validate_mapping(model: type[M], data: Mapping[str, Any]) -> M:
    """``model.model_validate(data)`` without running ``BaseSettings.__init__``.

    Raises:
        pydantic.ValidationError: exactly as ``model_validate`` would.
    """
    validator = _validator(model)
    if validator is None:
        return model.model_validate(data)
    return cast(M, validator.validate_python(data))
