"""The Python type of a TOML schema variable, built from its checked type and constraints."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any, Literal, cast

import annotated_types as at
from pydantic import (
    AfterValidator,
    AnyUrl,
    BeforeValidator,
    EmailStr,
    Json,
    Secret,
    SecretStr,
    StringConstraints,
    TypeAdapter,
    UrlConstraints,
)
from pydantic_core import PydanticCustomError

from envguard.schema.types import Duration, comma_list, format_duration

__all__ = ["annotation", "secret"]

_JSON: Any = cast(Any, Json)[Any]


def _annotated(tp: Any, *metadata: Any) -> Any:
    args = (tp, *metadata)
    return cast(Any, Annotated)[args] if metadata else tp


def annotation(type_name: str, cons: dict[str, Any]) -> Any:
    """The type of a variable, constraints included, before ``secret`` and optionality.

    ``cons`` holds the checked, normalized constraints (finite bounds, parsed durations).
    """
    if type_name == "list":
        item_cons: dict[str, Any] = {k: cons[k] for k in ("values", "schemes") if k in cons}
        item = annotation(cons.get("item", "str"), item_cons)
        return comma_list(
            item, min_length=cons.get("min_length"), max_length=cons.get("max_length")
        )
    bounds: list[Any] = [at.Ge(cons["min"])] if "min" in cons else []
    bounds += [at.Le(cons["max"])] if "max" in cons else []
    if type_name == "str":
        keys = [k for k in ("min_length", "max_length", "pattern") if k in cons]
        return _annotated(str, StringConstraints(**{k: cons[k] for k in keys})) if keys else str
    if type_name == "duration":
        has_bounds = "min" in cons or "max" in cons
        return (
            _annotated(Duration, _duration_range(cons.get("min"), cons.get("max")))
            if has_bounds
            else Duration
        )
    if type_name == "enum":
        return cast(Any, Literal)[tuple(cons["values"])]
    if type_name == "url" and "schemes" in cons:
        return _annotated(AnyUrl, UrlConstraints(allowed_schemes=cons["schemes"]))
    simple = {"bool": bool, "email": EmailStr, "float": float, "int": int, "json": _JSON}
    simple.update({"path": Path, "url": AnyUrl})
    return _annotated(simple[type_name], *bounds)


def _duration_range(low: dt.timedelta | None, high: dt.timedelta | None) -> AfterValidator:
    """Bounds for a duration, with messages in duration syntax (``1h``, not ``timedelta(...)``)."""

    def check(value: dt.timedelta) -> dt.timedelta:
        if low is not None and value < low:
            template = "Input should be greater than or equal to {ge}"
            raise PydanticCustomError("greater_than_equal", template, {"ge": format_duration(low)})
        if high is not None and value > high:
            template = "Input should be less than or equal to {le}"
            raise PydanticCustomError("less_than_equal", template, {"le": format_duration(high)})
        return value

    return AfterValidator(check)


def secret(type_name: str, base: Any) -> Any:
    """``SecretStr`` for strings (constraints checked on the plain value), else ``Secret[T]``."""
    if type_name != "str":
        return Secret[base]
    if base is str:
        return SecretStr
    adapter: TypeAdapter[str] = TypeAdapter(base)

    def check(value: Any) -> Any:
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        return adapter.validate_python(value)

    return Annotated[SecretStr, BeforeValidator(check)]
